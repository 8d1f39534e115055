"""kr: reference reproduction of "Kernel and Rich Regimes in Overparametrized
Models" (Woodworth, Gunasekar, Lee, Moroshko, Savarese, Golan, Soudry, Srebro,
COLT 2020).

Modules (one concept each):

* :mod:`kr.theory`        closed-form implicit biases q, Q, h_D, q_D, r, R (Sections 4-5)
* :mod:`kr.experiments.theory.tables` tidy tables behind Figures 2, 3(a), 3(b) and the theory claims
* :mod:`kr.grids`         expansion of config grid specifications (alpha, z, ...)
* :mod:`kr.results`       atomic result I/O with parameters, code version, convergence
* :mod:`kr.plotting`      one function per paper figure, PDF + PNG
* :mod:`kr.ledger`        the claims ledger, computed from result tables
* :mod:`kr.version`       the code version recorded in every result file

``kr`` never imports Snakemake; the workflow's scripts call into it.
"""

__version__ = "0.1.0"
