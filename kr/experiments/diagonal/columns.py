"""Meaning and unit of every column of this experiment's result tables (results/datapackage.json)."""

COLUMNS: dict[str, dict[str, str]] = {
    "diagonal_refs": {
        "solution": "which reference interpolant: l1 (beta*_l1 = argmin ||beta||_1, the alpha -> 0 limit) or l2 "
                    "(beta*_l2, alpha -> inf)",
        "method": "how it was solved: linprog:highs (the l1 LP) or lstsq (beta = X^+ y, exact)",
        "population_error": "population error E(<beta, x> - y)^2 = ||beta - beta*||^2 + noise variance (Figure 1(a))",
        "l1_norm": "||beta||_1 of the reference solution",
        "l2_norm": "||beta||_2 of the reference solution",
        "residual": "training residual ||X beta - y||_2",
        "wall_time_s": "wall-clock time of the solve [s]",
        "converged": "whether the solve converged (LP solved; y in the range of X for lstsq)",
        "N": "number of training samples N",
        "seed": "seed of the problem draw (support of beta*, inputs, noise)",
        "d": "dimension d of beta (features)",
    },
    "diagonal_sweep": {
        "method": "route to beta_alpha: flow (exact gradient flow), newton (min Q^D_alpha s.t. X beta = y), gd "
                  "(plain GD), theorem2_l1 / theorem2_l2 (Theorem 2 checks)",
        "alpha": "initialisation scale alpha (w+(0) = w-(0) = alpha 1); 0 on unchecked Theorem 2 rows",
        "alpha_D": "alpha^D, the scale of beta at initialisation (Figure 3(c))",
        "population_error": "population error E(<beta, x> - y)^2 = ||beta - beta*||^2 + noise variance (Figure 1(a))",
        "train_residual": "training residual ||X beta - y||_2",
        "l1_norm": "||beta_alpha||_1",
        "l2_norm": "||beta_alpha||_2",
        "excess_l1": "excess l1 norm ||beta_alpha||_1 - ||beta*_l1||_1 (Figure 1(b), blue)",
        "excess_l2": "excess l2 norm ||beta_alpha||_2 - ||beta*_l2||_2 (Figure 1(b), red)",
        "rel_dist_to_min_Q": "||beta - beta_Q|| / ||beta_Q||, beta_Q = argmin Q^D_alpha (Newton): the Theorem 1/3 "
                             "check on flow and gd rows; NaN otherwise",
        "wall_time_s": "wall-clock time of the solve or flow (gd: the whole batched GD run) [s]",
        "converged": "whether the row converged: Newton to its tolerance, flow/GD to ||X beta - y|| <= tol",
        "iterations": "Newton iterations (newton), accepted ODE solver steps (flow) or GD updates (gd)",
        "flow_time": "gradient-flow time t at which ||X beta - y||_2 <= tol was reached (flow rows)",
        "eps": "eps of Theorem 2 (theorem2 rows)",
        "log10_alpha": "log10 of Theorem 2's sufficient alpha for this eps (theorem2 rows)",
        "bound_ratio": "||beta||_1 / ((1+eps)||beta*_l1||_1) or ||beta||_2^2 / ((1+eps)||beta*_l2||_2^2); <= 1 "
                       "when Theorem 2 holds",
        "checked": "whether the Theorem 2 alpha was solved (False: below 1e-30, outside the Newton solver's "
                   "validated range)",
        "N": "number of training samples N",
        "D": "depth (order of homogeneity) D of the diagonal network",
        "seed": "seed of the problem draw (support of beta*, inputs, noise)",
        "d": "dimension d of beta (features)",
        "lr": "GD step size (gd rows)",
        "device": "torch device of the GD run (gd rows)",
    },
    "diagonal_threshold": {
        "N": "number of training samples N (the x-axis of Figures 1(c), 3(c))",
        "D": "depth (order of homogeneity) D of the diagonal network",
        "seed": "seed of the problem draw (support of beta*, inputs, noise)",
        "d": "dimension d of beta (features)",
        "error_threshold": "population-error threshold the solution must reach (0.025 in the paper)",
        "l1_population_error": "population error of beta*_l1 at this N (where it meets the threshold: the dashed "
                               "line)",
        "log10_alpha_max": "log10 of alpha_max; NaN when not reached",
        "alpha_max": "largest alpha whose min-Q^D_alpha solution has population error <= threshold (Figure 1(c)); "
                     "NaN when not reached",
        "alpha_max_D": "alpha_max^D, the largest admissible scale of beta at initialisation (Figure 3(c))",
        "reached": "whether the smallest alpha of the search met the threshold (if not, alpha_max is NaN)",
        "error_at_smallest_alpha": "population error at the lower end of the alpha search range",
        "error_at_largest_alpha": "population error at the upper end of the alpha search range",
        "wall_time_s": "wall-clock time of the bisection [s]",
        "converged": "whether every Newton solve of the bisection converged",
    },
}
