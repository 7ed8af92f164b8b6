import jax
import pytest

import jaxnc

jax.config.update("jax_enable_x64", True)


@pytest.fixture(scope="session")
def params():
    return jaxnc.Parameters.hashimoto2024()
