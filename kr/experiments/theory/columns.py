"""Meaning and unit of every column of this experiment's result tables (results/datapackage.json)."""

COLUMNS: dict[str, dict[str, str]] = {
    "fig2_q_r": {
        "z": "argument z of the coordinate functions q and r (the x-axis of Figure 2)",
        "q": "q(z) = 2 - sqrt(4 + z^2) + z arcsinh(z/2), the coordinate function of Q_alpha (Theorem 1; Figure 2)",
        "r": "r(z) = min (a-1)^2 + (b-1)^2 s.t. a^2 - b^2 = z, the coordinate function of the parameter distance "
             "R_alpha (Section 4; Figure 2)",
        "quartic_real_roots": "number of real roots numpy.roots finds for the paper's quartic p_z(u) at this z "
                              "(Section 4)",
        "r_minus_smallest_root_rel": "|smallest real root of p_z - r(z)| / max(1, |r(z)|): whether r(z) is the "
                                     "quartic's smallest real root (inf if it has none)",
        "converged": "whether the hyperbolic root solve behind r(z) converged",
    },
    "fig2_rescaling": {
        "z_max": "upper end Z of the fit range: positive log-spaced z in [1e-3, Z] (q and r are even)",
        "c1": "output scale c1 of the best minimax rescaling r(z) ~ c1 q(c2 z) on [1e-3, z_max]",
        "c2": "argument scale c2 of the best minimax rescaling r(z) ~ c1 q(c2 z) on [1e-3, z_max]",
        "max_rel_gap": "max |c1 q(c2 z) / r(z) - 1| of the best fit; growing with z_max shows r is no rescaling of q "
                       "(Section 4)",
        "converged": "whether the row's computation converged; always True (the least-squares + Nelder-Mead fit "
                     "has no convergence test)",
    },
    "fig3a_qD": {
        "D": "depth (order of homogeneity) D of the diagonal network; D = 2 gives q of Theorem 1",
        "z": "argument z of q_D (the x-axis of Figure 3(a))",
        "q_D": "q_D(z) = int_0^z h_D^{-1}, the coordinate function of Q^D_alpha of Theorem 3 (Figure 3(a))",
        "converged": "whether the h_D^{-1} root solve converged at this z (always True for D = 2, closed form)",
    },
    "fig3b_norm_ratio": {
        "D": "depth (order of homogeneity) D of the diagonal network",
        "d": "dimension d of the vectors e_1 and 1_d / sqrt(d)",
        "alpha": "initialisation scale alpha (w+(0) = w-(0) = alpha 1; the x-axis of Figure 3(b))",
        "alpha_D": "alpha^D, the scale of beta at initialisation",
        "ratio": "Q^D_alpha(e_1) / Q^D_alpha(1_d / sqrt d) (Figure 3(b)): 1 is l2-like, 1/sqrt(d) is l1-like",
        "ratio_l1": "1/sqrt(d), the ratio's l1 (alpha -> 0) limit",
        "converged": "whether the h_D^{-1} root solves for both vectors converged",
    },
    "fig3b_transition": {
        "D": "depth (order of homogeneity) D of the diagonal network",
        "d": "dimension d of the vectors e_1 and 1_d / sqrt(d)",
        "eps": "tolerance eps: the target ratio Q^D_alpha(e_1) / Q^D_alpha(1_d / sqrt d) is (1 + eps)/sqrt(d)",
        "alpha_star": "largest alpha with ratio <= (1 + eps)/sqrt(d), i.e. Q^D_alpha within (1 + eps) of "
                      "l1-proportional (cf. Lemma 2); NaN outside the bracket",
        "log_inv_alpha_star": "ln(1/alpha_star)",
        "converged": "whether the bisection bracket alpha in [1e-60, 1e20] contained the target (alpha_star finite)",
    },
    "theory_limits": {
        "vector": "index of the Gaussian test vector beta (drawn from the config seed)",
        "d": "dimension d of beta",
        "alpha": "initialisation scale alpha",
        "l1_norm": "||beta||_1",
        "l2_norm": "||beta||_2",
        "Q": "Q_alpha(beta) of Theorem 1 (w0 = 1)",
        "l2_ratio": "4 alpha^2 Q_alpha(beta) / ||beta||_2^2, which tends to 1 as alpha -> inf (kernel regime, Section 4)",
        "l1_ratio": "Q_alpha(beta) / (ln(1/alpha^2) ||beta||_1), which tends to 1 as alpha -> 0 (rich limit); "
                    "NaN for alpha >= 1",
        "converged": "whether the row's computation converged; always True (closed form, no iteration)",
    },
}
