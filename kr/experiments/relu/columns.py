"""Meaning and unit of every column of this experiment's result tables (results/datapackage.json)."""

COLUMNS: dict[str, dict[str, str]] = {
    "relu_fig6": {
        "D": "depth D (weight layers) of the bias-free ReLU student, homogeneous of degree D in its weights",
        "seed": "seed of the student's initialisation w0 (the data are fixed by data_seed)",
        "alpha": "initialisation scale: Uniform He weights multiplied by alpha",
        "alpha_D": "alpha^D, the depth-adjusted scale of initialisation (the x-axis of Figure 6(a, b))",
        "width": "hidden units per layer of the student",
        "n_train": "training points (uniform on the unit circle, labelled by the teacher network)",
        "n_test": "test points (same distribution)",
        "test_error": "mean squared test error of the trained network (Figure 6(a))",
        "kernel_test_error": "mean squared test error of the ridgeless tangent-kernel predictor at initialisation "
                             "(the alpha -> inf limit)",
        "net_kernel_rms": "RMS difference between the network's and the kernel predictor's test predictions",
        "linearised_test_error": "mean squared test error of the model linearised at w0, trained by the same GD "
                                 "(step, tolerance, step cap)",
        "linearised_steps": "GD steps of the linearised model until its loss <= tol (capped at max_steps)",
        "linearised_converged": "whether the linearised model reached loss <= tol within max_steps",
        "net_linearised_rms": "RMS difference between the network's and the linearised model's test predictions",
        "y_test_rms": "RMS of the test labels (the scale of the errors)",
        "grad_distance": "cosine distance 1 - <Phi(w0), Phi(w_inf)>_F / (||Phi(w0)||_F ||Phi(w_inf)||_F) of the "
                         "tangent features on the training inputs (Figure 6(b))",
        "train_loss": "final mean squared training loss",
        "steps": "full-batch GD steps taken",
        "lr": "GD step size min(lr, lr_gn_fraction / top Gauss-Newton eigenvalue at initialisation)",
        "converged": "whether GD reached training loss <= tol within max_steps",
        "hit_cap": "whether GD stopped at max_steps with a finite loss above tol",
        "diverged": "whether the training loss became non-finite",
        "device": "torch device of the run",
        "dtype": "torch floating dtype of the run",
        "wall_time_s": "wall-clock time of the whole (D, seed) job, all alphas trained together [s]",
    },
    "relu_fig7": {
        "curve": "network (trained net), kernel (tangent-kernel predictor at initialisation), spline (linear "
                 "spline interpolant) or data (training points)",
        "x": "input x: a point of the dense evaluation grid, or a training input (curve = data)",
        "f": "the curve's value at x (the label for curve = data)",
        "alpha": "initialisation scale: w(0) = alpha w0 (network and kernel rows)",
        "train_loss": "final mean squared training loss of the network at this alpha (network and kernel rows)",
        "steps": "full-batch GD steps of the network at this alpha (network and kernel rows)",
        "lr": "GD step size min(lr, lr_gn_fraction / top Gauss-Newton eigenvalue at initialisation)",
        "hit_cap": "whether the network's GD stopped at max_steps with a finite loss above tol",
        "diverged": "whether the network's training loss became non-finite",
        "converged": "network rows: whether GD reached training loss <= tol; kernel, spline, data rows: True "
                     "(closed form)",
        "panel": "panel of Figure 7 (a, b, c)",
        "c": "shape c: input layer (w1, b1) times c, w2 divided by c, leaving the initial function unchanged "
             "(Figure 7(b, c))",
        "width": "width k of the univariate two-layer ReLU network (paired units, f(alpha w0) = 0)",
        "seed": "seed of the initialisation w0",
        "device": "torch device of the run",
        "dtype": "torch floating dtype of the run",
        "wall_time_s": "wall-clock time of the whole panel job, all alphas trained together [s]",
    },
}
