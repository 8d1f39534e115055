# Paper figures: results/figures/fig<number><panel>.{pdf,png}.


rule plot_figure:
    """Draw one paper figure from its result tables (kr.plotting)."""
    input:
        unpack(figure_inputs),
    output:
        pdf=report(
            f"{RESULTS}/figures/{{fig}}.pdf",
            caption="report/figure.rst",
            category="Figures",
            labels={"figure": "{fig}", "format": "pdf"},
        ),
        png=report(
            f"{RESULTS}/figures/{{fig}}.png",
            caption="report/figure.rst",
            category="Figures",
            labels={"figure": "{fig}", "format": "png"},
        ),
    log:
        f"{RESULTS}/logs/plot_figure/{{fig}}.log",
    conda:
        "../envs/theory.yaml"
    script:
        "../scripts/plot_figure.py"
