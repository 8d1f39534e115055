"""Send a job's output and warnings to its log file."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def log_to(path: str | os.PathLike[str] | None) -> Iterator[logging.Logger]:
    """Redirect stdout, stderr (tqdm bars included) and ``logging`` to ``path``.

    With ``path=None`` output stays on the terminal.  The elapsed wall time is
    logged on exit, and an exception is logged with its traceback before it
    propagates (so the job fails and Snakemake keeps the log).
    """
    logger = logging.getLogger("kr")
    if path is None:
        yield logger
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with open(path, "w", buffering=1) as fh, contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
        handler = logging.StreamHandler(fh)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logging.captureWarnings(True)
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            yield logger
            logger.info("done in %.2f s", time.perf_counter() - start)
        except BaseException:
            logger.exception("failed after %.2f s", time.perf_counter() - start)
            raise
        finally:
            root.removeHandler(handler)
            logging.captureWarnings(False)
