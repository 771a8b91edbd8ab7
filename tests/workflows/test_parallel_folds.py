"""Folds scored in worker processes: the same numbers and the same log as one after another."""

import logging
import re

import pandas as pd
import pytest
from tests._planted_inputs import SMALL_LEARNED, small_planted

from exprlab._logging import collect_log, collect_records, replay_records
from exprlab.cli import main
from exprlab.errors import InvalidParameterError
from exprlab.workflows import _repurposing as rp
from exprlab.workflows._parallel import run_tasks

METHODS = ["random", "popularity", "xsum", "transfer_cosine", "paper", "twotower"]


@pytest.fixture(scope="module")
def serial_and_parallel():
    bench = small_planted()
    runs = {
        n_jobs: rp.run_benchmark(
            bench, split="disease", n_folds=3, seed=4, methods=METHODS, settings=SMALL_LEARNED, n_jobs=n_jobs
        )
        for n_jobs in (1, 2)
    }
    return runs[1], runs[2]


def test_parallel_folds_give_bit_identical_scores_and_metrics(serial_and_parallel):
    one, two = serial_and_parallel
    pd.testing.assert_frame_equal(one.predictions, two.predictions, check_exact=True)
    pd.testing.assert_frame_equal(one.per_disease, two.per_disease, check_exact=True)
    pd.testing.assert_frame_equal(one.metrics, two.metrics, check_exact=True)
    assert one.timings["worker_cpu"] == 0.0
    assert two.timings["worker_cpu"] > 0.0


def test_worker_log_lines_come_back_in_fold_order(serial_and_parallel):
    one, two = serial_and_parallel

    def messages(log):  # drop the time stamp and the seconds a fold took, keep logger and message
        return [re.sub(r'"seconds": [0-9.e-]+', "", line.split(" ", 2)[2]) for line in log]

    fold_lines = [m for m in messages(two.log) if "label-reading methods chose" in m]
    assert [line.split("fold ")[1][0] for line in fold_lines] == ["0", "1", "2"]
    assert messages(one.log) == messages(two.log)


def _warn_and_fail(value):
    log = logging.getLogger("exprlab.test_parallel")
    log.debug("debug %d", value)
    log.warning("value %s of %r", value, {"k": object()})  # an argument that does not pickle
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed on %d", value)
    return value * 10


def test_records_are_picklable_and_replayed_at_the_parent_levels():
    import pickle

    with collect_records() as records:
        assert _warn_and_fail(3) == 30
    restored = pickle.loads(pickle.dumps(records))
    assert [r.getMessage() for r in restored][:1] == ["debug 3"]
    assert restored[1].getMessage().startswith("value 3 of {'k': <object object at")
    assert "ValueError: boom" in restored[2].exc_text
    with collect_log() as lines:
        replay_records(restored)
    assert [line.split(": ", 1)[1] for line in lines[:2]] == [
        "debug 3",
        restored[1].getMessage(),
    ]
    assert "failed on 3" in lines[2] and "ValueError: boom" in lines[2]


def test_run_tasks_keeps_input_order_and_replays_worker_records():
    with collect_log() as lines:
        out = list(run_tasks(_warn_and_fail, [(1,), (2,), (3,)], n_jobs=2, description="t"))
    assert [r for r, _ in out] == [10, 20, 30]
    warned = [line.split(": ", 1)[1] for line in lines if "WARNING" in line]
    assert [w.split(" of ")[0] for w in warned] == ["value 1", "value 2", "value 3"]


def _refuse_three(value):
    if value == 3:
        raise InvalidParameterError(f"value {value} refused", where="test task", fix="give another")
    return value


def test_an_error_in_a_worker_reaches_the_caller_as_itself():
    with pytest.raises(InvalidParameterError, match="test task: value 3 refused. Fix: give another"):
        list(run_tasks(_refuse_three, [(2,), (3,), (4,)], n_jobs=2, description="t"))


@pytest.mark.parametrize("bad", ["0", "-1"])
def test_cli_jobs_below_one_is_one_line_and_exit_2(tmp_path, capsys, bad):
    with pytest.raises(SystemExit) as stop:
        main(["match", "benchmark", "--out", str(tmp_path / "o"), "--jobs", bad])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--jobs" in err[0]
    assert not (tmp_path / "o").exists()
