import numpy as np
import pytest

from jaxnc import Protocol, ProtocolError, Step


def test_parse_full_example():
    p = Protocol.parse("light 468nm 10mW/cm2 3h; dark 600h at 318K; light 90min")
    assert p.kinds == ("light", "dark", "light")
    np.testing.assert_allclose(p.duration_h, [3.0, 600.0, 1.5])
    np.testing.assert_allclose(p.irradiance_mw_cm2, [10.0, 0.0, 10.0])
    np.testing.assert_allclose(p.temperature_k, [298.15, 318.0, 298.15])
    np.testing.assert_allclose(p.wavelength_nm[0], 468.0)


@pytest.mark.parametrize(
    "text, hours",
    [("dark 30s", 30 / 3600), ("dark 45 min", 0.75), ("dark 2d", 48.0), ("dark 1.5e2h", 150.0),
     ("dark for 3 hours at 318 K", 3.0)],
)
def test_duration_units(text, hours):
    assert float(Protocol.parse(text).duration_h[0]) == pytest.approx(hours)


def test_temperature_in_celsius_and_irradiance_in_w_m2():
    p = Protocol.parse("light 405nm 100W/m2 1h at 45C")
    assert float(p.temperature_k[0]) == pytest.approx(318.15)
    assert float(p.irradiance_mw_cm2[0]) == pytest.approx(10.0)


def test_code_and_text_agree():
    a = Protocol([Step.light(3.0), Step.dark(600.0, temperature_k=318.0)])
    b = Protocol.parse("light 3h; dark 600h at 318K")
    for f in ("duration_h", "wavelength_nm", "irradiance_mw_cm2", "temperature_k"):
        np.testing.assert_allclose(getattr(a, f), getattr(b, f))
    assert str(Protocol.parse(str(a))) == str(a)


@pytest.mark.parametrize(
    "text, named",
    [
        ("light 3h; dusk 2h", "'dusk'"),
        ("light 3h blue", "'blue'"),
        ("dark 600h 468nm", "wavelength"),
        ("light 468nm", "no duration"),
        ("light 3h 2h", "twice"),
        ("", "empty"),
        ("dark 0h", "duration_h"),
        ("light 0mW/cm2 3h", "darkness"),  # not silently a dark step
    ],
)
def test_bad_protocols_name_the_problem_and_show_the_grammar(text, named):
    with pytest.raises(ProtocolError) as err:
        Protocol.parse(text)
    assert named in str(err.value)
    if named not in ("duration_h", "darkness"):
        assert "protocol :=" in str(err.value)


def test_a_light_step_built_directly_is_lit():
    assert Step("light", 3.0).irradiance_mw_cm2 == Step.light(3.0).irradiance_mw_cm2 == 10.0
    assert Step("dark", 3.0).irradiance_mw_cm2 == 0.0
    with pytest.raises(ProtocolError, match="darkness"):
        Step("light", 3.0, irradiance_mw_cm2=0.0)
