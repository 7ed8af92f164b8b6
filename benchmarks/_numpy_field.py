"""The `field` model's discretised equations in NumPy, with their Jacobian sparsity pattern,
for SciPy's `solve_ivp(method="BDF", jac_sparsity=...)` (benchmarks only).

Per-step coefficients (generation, rate constants, hop rate, escape chance) and the lattice
arrays come from jaxnc itself, so both solvers integrate the same equations; the right-hand
side mirrors `AbstractModel.local_rates` + `transport_rate` (jaxnc/models/_base.py) and the
default optics (`ExcitonFieldOptics`, jaxnc/physics/excitons.py): Poisson trap counts and
Förster transfer, the carriers from a sparse CG solve of the exciton lattice problem in every
evaluation (Jacobi-preconditioned, rtol 1e-10 like jaxnc's). `excitons=False` gives the local
quasi-static optics instead. The declared Jacobian pattern is the local one: the carriers'
dependence on other cubes' coverage is left out, as jaxnc's W-method holds them in W.
The state-independent pieces of downhill transfer (each face's overlap and detailed-balance
factors, `jaxnc.physics.transfer.transfer`) and of reabsorption (each cube's reabsorbed
fraction, `jaxnc.physics.reabsorption`) are taken from jaxnc once; their use in the solves and
in the observed PLQY is NumPy's.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy import stats
from scipy.integrate import solve_ivp

from jaxnc.models import get_model
from jaxnc.physics.reabsorption import reabsorbed_fraction
from jaxnc.physics.spectra import homogeneous_sigma_ev
from jaxnc.physics.transfer import transfer


class NumpyField:
    def __init__(self, asm, params, excitons: bool = True, n_max: int = 31):
        self.excitons = excitons
        self.model = get_model("field")
        self.asm, self.params = asm, params
        self.cells = self.model.cells(asm, params)
        c = self.cells
        self.p = params.to_dict()
        self.shape = np.asarray(c.weight).shape
        self.n = int(np.prod(self.shape))
        self.weight = np.asarray(c.weight, dtype=float)
        self.occ = self.weight > 0
        self.area = np.asarray(c.area, dtype=float)
        self.open = np.asarray(c.open_faces, dtype=float)
        self.confined = np.asarray(c.confined, dtype=float)
        self.links = [np.asarray(x, dtype=float) for x in c.links]
        self.probe = np.asarray(self.model.probe_weight(self.cells, asm, params))
        # Exciton optics: neighbours per cube, transfer rate per face, the transfer operator.
        p = self.p
        self.neighbours = 6.0 * np.asarray(c.enclosure, dtype=float)
        k_d = p["k_radiative_per_ns"] + p["k_nonradiative_per_ns"]
        self.k_et = k_d * (p["forster_radius_nm"] / float(c.pitch_nm)) ** 6
        self.counts = np.arange(n_max + 1, dtype=float)
        sigma = float(homogeneous_sigma_ev(params))
        moves = transfer(c.links, self.k_et, c.occupied, c.weight, self.neighbours,
                         c.energy_ev, sigma)
        self.face_factors = [np.asarray(f, dtype=float) for f in moves.links]
        self.out = np.asarray(moves.out, dtype=float)
        self.base = np.asarray(moves.base, dtype=float)
        self.scale = np.asarray(moves.scale, dtype=float)
        self.laplacian = self._transfer_laplacian()
        self.reabsorbed = np.asarray(reabsorbed_fraction(
            c.energy_ev, sigma, c.film_cubes, c.edge_shift_ev, c.edge_nm, c.pitch_nm,
            self.model.generation, params))

    def _transfer_laplacian(self):
        """`L v = -sum_j k_ET f_ij links_ij (v_j - v_i)` as a sparse matrix over all sites
        (symmetric: the downhill problem in `v = n / s`)."""
        n, s = self.n, self.shape
        idx = np.arange(n).reshape(s)
        rows, cols, vals = [], [], []
        for axis, link in enumerate(self.face_factors):
            m = s[axis]
            lo = np.take(idx, np.arange(0, m - 1), axis=axis).ravel()
            hi = np.take(idx, np.arange(1, m), axis=axis).ravel()
            k = self.k_et * link.ravel()
            rows += [lo, hi, lo, hi]
            cols += [hi, lo, lo, hi]
            vals += [-k, -k, k, k]
        return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows),
                                                     np.concatenate(cols))), shape=(n, n))

    def _active(self, th, q, dmg):
        """Active trap fraction: unpassivated sites (charged ones quench at f_q) + damage."""
        return (1 - th) * (1 - (1 - self.p["charged_trap_quenching"]) * q) + dmg

    def _effective_decay(self, th, q, dmg):
        """`1/h - z k_ET` per site, `h = sum_N P(N) / (k_N + z k_ET)` (Poisson trap counts)."""
        p = self.p
        mean = p["traps_per_cube"] * self._active(th, q, dmg)
        k_q = p["k_trap_nonradiative_per_ns"] / p["traps_per_cube"]
        prob = stats.poisson.pmf(self.counts, np.where(self.occ, mean, 0.0)[..., None])
        k_n = p["k_radiative_per_ns"] + p["k_nonradiative_per_ns"] + self.counts * k_q
        h = np.sum(prob / (k_n + self.out[..., None]), axis=-1)
        return np.where(self.occ, 1.0 / h - self.base, 1.0)

    def _excitons(self, source, th, q, dmg):
        """Steady-state exciton density per cube (source x ns): sparse CG on the lattice."""
        decay = self._effective_decay(th, q, dmg).ravel()
        a = sp.diags(np.where(self.occ.ravel(), decay, 1.0)) + self.laplacian
        b = (np.where(self.occ, source, 0.0) / self.scale).ravel()
        if not b.any():
            return np.zeros(self.shape)
        jacobi = sp.diags(1.0 / a.diagonal())
        x, info = spla.cg(a, b, rtol=1e-10, atol=0.0, M=jacobi)
        if info != 0:
            raise RuntimeError(f"exciton CG did not converge ({info})")
        return np.where(self.occ, x.reshape(self.shape) * self.scale, 0.0)

    def _observed(self, plqy, emission):
        """Photon recycling in the film: the observed PLQY from the internal one and the
        emission per cube (`jaxnc.physics.reabsorption.recycled`)."""
        w = np.where(self.occ, self.weight * emission, 0.0)
        p = float(np.sum(w * self.reabsorbed) / np.sum(w))
        return plqy * (1.0 - p) / (1.0 - plqy * p)

    def coefficients(self, wavelength_nm, irradiance, temperature_k):
        co = self.model.coefficients(self.cells, self.asm, self.params, wavelength_nm,
                                     irradiance, temperature_k)
        return (np.asarray(co.generation_per_s), float(co.k_ads_per_h),
                float(co.k_des_per_h), float(co.k_hop_per_h), float(co.escape_confined))

    def y0(self):
        st = self.model.initial_state(self.cells, self.params)
        return np.concatenate([np.asarray(st.coverage).ravel(), np.asarray(st.charge).ravel(),
                               np.asarray(st.free_ligand).ravel(), [0.0],
                               np.asarray(st.damage).ravel()])

    def rhs(self, t, y, gen, k_ads, k_des, k_hop, chance_confined):
        p, n, s = self.p, self.n, self.shape
        th, q, c = y[:n].reshape(s), y[n:2 * n].reshape(s), y[2 * n:3 * n].reshape(s)
        dmg = y[3 * n + 1:].reshape(s)
        kr, knr, ktnr = p["k_radiative_per_ns"], p["k_nonradiative_per_ns"], \
            p["k_trap_nonradiative_per_ns"]
        if self.excitons:
            carriers = self._excitons(gen, th, q, dmg) * 1e-9
        else:
            active = self._active(th, q, dmg)
            tau = 1.0 / np.maximum(kr + knr + ktnr * active, 0.5 * (kr + knr))
            carriers = gen * tau * 1e-9
        dq = 3600.0 * (p["k_trap_per_s"] * carriers * (1 - q) - p["k_release_per_s"] * q)
        ads = k_ads * (1 + p["charge_enhancement"] * q) * c * (1 - th)
        des = k_des * th**2
        chance = self.confined * chance_confined + (1 - self.confined)
        esc = chance * k_hop * self.open * c
        inflow = np.zeros(s)
        for axis, link in enumerate(self.links):
            m = s[axis]
            hi = np.take(c, np.arange(1, m), axis=axis)
            lo = np.take(c, np.arange(0, m - 1), axis=axis)
            flux = k_hop * link * (hi - lo)
            lo_idx = [slice(None)] * 3
            hi_idx = [slice(None)] * 3
            lo_idx[axis] = slice(0, m - 1)
            hi_idx[axis] = slice(1, m)
            inflow[tuple(lo_idx)] += flux
            inflow[tuple(hi_idx)] -= flux
        occ = self.occ
        w = np.where(occ, self.weight, 1.0)
        d_th = np.where(occ, ads - des, 0.0)
        d_q = np.where(occ, dq, 0.0)
        d_c = np.where(occ, self.area * (des - ads) - esc + inflow / w, 0.0)
        lost = np.sum(np.where(occ, self.weight * esc, 0.0))
        d_dmg = np.where(occ, 3600.0 * p["photodegradation_per_photon"] * gen, 0.0)
        return np.concatenate([d_th.ravel(), d_q.ravel(), d_c.ravel(), [lost], d_dmg.ravel()])

    def sparsity(self):
        """Nonzero pattern of the Jacobian: 3x3 local blocks, c-c neighbour links, lost-c,
        and theta, q on the cube's own damage (its rate is constant: a zero row)."""
        n, s = self.n, self.shape
        idx = np.arange(n).reshape(s)
        rows, cols = [], []
        for a in range(3):
            for b in range(3):
                rows.append(a * n + np.arange(n))
                cols.append(b * n + np.arange(n))
        for axis, link in enumerate(self.links):
            m = s[axis]
            lo = np.take(idx, np.arange(0, m - 1), axis=axis)[link > 0]
            hi = np.take(idx, np.arange(1, m), axis=axis)[link > 0]
            rows += [2 * n + lo, 2 * n + hi]
            cols += [2 * n + hi, 2 * n + lo]
        leak = np.nonzero((self.open.ravel() > 0) & self.occ.ravel())[0]
        rows.append(np.full(leak.size, 3 * n))
        cols.append(2 * n + leak)
        for a in range(2):
            rows.append(a * n + np.arange(n))
            cols.append(3 * n + 1 + np.arange(n))
        r, c = np.concatenate(rows), np.concatenate(cols)
        return sp.csr_matrix((np.ones(r.size), (r, c)), shape=(4 * n + 1, 4 * n + 1))

    def plqy(self, y):
        n, p, s = self.n, self.p, self.shape
        th, q, dmg = y[:n], y[n:2 * n], y[3 * n + 1:]
        kr = p["k_radiative_per_ns"]
        if self.excitons:  # k_r x excitons / absorbed, the probe's photons per cube
            per_cube = np.where(self.occ, self.probe / np.where(self.occ, self.weight, 1.0), 0)
            dens = self._excitons(per_cube, th.reshape(s), q.reshape(s), dmg.reshape(s))
            internal = float(kr * np.sum(self.weight * dens) / np.sum(self.weight * per_cube))
            return self._observed(internal, kr * dens)
        active = self._active(th, q, dmg).reshape(s)
        pl = kr / (kr + p["k_nonradiative_per_ns"] + p["k_trap_nonradiative_per_ns"] * active)
        internal = float(np.sum(self.probe * pl) / np.sum(self.probe))
        per_cube = np.where(self.occ, self.probe / np.where(self.occ, self.weight, 1.0), 0)
        return self._observed(internal, per_cube * pl)

    def _run(self, protocol, saves_per_step, integrate):
        """PLQY at `saves_per_step` evenly spaced times per step (jaxnc's saves).

        `integrate(rhs, duration, y, ts)` returns the states at `ts`, shape `(len(ts), n)`,
        and a count (evaluations or steps), summed over the steps.
        """
        y, out, count = self.y0(), [], 0
        for k in range(len(protocol.kinds)):
            dur = float(protocol.duration_h[k])
            co = self.coefficients(float(protocol.wavelength_nm[k]),
                                   float(protocol.irradiance_mw_cm2[k]),
                                   float(protocol.temperature_k[k]))

            def rhs(t, yy, co=co):
                return self.rhs(t, yy, *co)

            ys, n = integrate(rhs, dur, y, np.linspace(0.0, dur, saves_per_step))
            count += n
            out += [self.plqy(row) for row in (ys if k == 0 else ys[1:])]
            y = ys[-1]
        return np.asarray(out), count

    def simulate(self, protocol, saves_per_step, rtol, atol):
        """SciPy BDF with the sparsity pattern; PLQY and right-hand-side evaluations."""
        jac = self.sparsity()

        def integrate(rhs, dur, y, ts):
            sol = solve_ivp(rhs, (0.0, dur), y, method="BDF", t_eval=ts, rtol=rtol, atol=atol,
                            jac_sparsity=jac)
            if not sol.success:
                raise RuntimeError(f"solve_ivp failed: {sol.message}")
            return sol.y.T, int(sol.nfev)

        return self._run(protocol, saves_per_step, integrate)

    def simulate_cvode(self, protocol, saves_per_step, rtol, atol):
        """SUNDIALS CVODE (BDF, sparse direct linear solver with the pattern) through
        scikit-sundae; PLQY and steps."""
        from sksundae.cvode import CVODE

        pattern = self.sparsity()

        def integrate(rhs, dur, y, ts):
            def rhsfn(t, yy, yp):  # exactly three arguments (a fourth means userdata)
                yp[:] = rhs(t, yy)

            res = CVODE(rhsfn, method="BDF", rtol=rtol, atol=atol, linsolver="sparse",
                        sparsity=pattern, max_num_steps=100000).solve(ts, y)
            if not res.success:
                raise RuntimeError(f"CVODE failed: {res.message}")
            return np.asarray(res.y), int(getattr(res, "nsteps", 0) or 0)

        return self._run(protocol, saves_per_step, integrate)
