"""Scoring a finished run: per-question ALCE metrics for one judge, appended as made, then the report.

Scores go to ``scores-<judge>.jsonl`` one line per (system, question), so an interrupted scoring
continues; a second judge gets its own file and nothing is regenerated. Closed-book answers get no
citation metrics or faithfulness.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tqdm import tqdm

from rag.cluster import RayEngine
from rag.errors import RagError
from rag.evaluation import metrics
from rag.evaluation.data import AsqaItem, read_asqa_file
from rag.evaluation.distributed import score_on_ray
from rag.evaluation.report import build_summary, write_report
from rag.evaluation.rundir import (
    NO_JUDGE,
    RunConfig,
    latest,
    load_run,
    model_facts,
    read_outputs,
    scores_path,
)
from rag.evaluation.tasks import score_record
from rag.files import append_record
from rag.judges import Judge, load_judge

Key = tuple[str, str]  # (system, question id)


def _resolve_judge(judge: str | Judge | None) -> tuple[Judge | None, dict[str, Any]]:
    """(judge object or None, {"name", "official"}) from a name, a judge object or None/"none"."""
    if judge is None or (isinstance(judge, str) and judge.strip().lower() == NO_JUDGE):
        return None, {"name": NO_JUDGE, "official": False}
    if isinstance(judge, str):
        judge = load_judge(judge)  # nothing loads until the first verdict
    return judge, {
        "name": str(getattr(judge, "name", type(judge).__name__)),
        "official": bool(getattr(judge, "official", False)),
    }


def _score_answers(
    run_dir: Path,
    config: RunConfig,
    answers: Mapping[Key, Mapping[str, Any]],
    judge: Judge | None,
    spath: Path,
    *,
    alce_exact: bool,
    progress: bool,
    engine: RayEngine | None = None,
    judge_name: str | None = None,
) -> dict[Key, Mapping[str, Any]]:
    """Every answer's score line, scoring (and appending) those ``spath`` does not hold yet;
    with ``engine``, on a pool of Ray actors that each load the judge ``judge_name``."""
    items: dict[str, AsqaItem] = {it.id: it for it in read_asqa_file(config.data_path())}
    done = latest(read_outputs(spath, repair=True))
    todo = [key for key in answers if key not in done]
    for key in todo:
        if answers[key]["id"] not in items:
            raise RagError(
                f"question {answers[key]['id']} of {run_dir} is not in {config.data_path()}; score with the same --data"
            )
    tasks = [(items[answers[key]["id"]], answers[key]) for key in todo]
    bar = tqdm(total=len(todo), desc="scoring", unit="q", disable=not progress, dynamic_ncols=True)
    try:
        with spath.open("a", encoding="utf-8") as f:

            def write(line: dict[str, Any]) -> None:
                append_record(f, line)
                done[(str(line["system"]), str(line["id"]))] = line
                bar.update(1)

            if engine is not None and judge is not None and tasks:
                score_on_ray(tasks, judge_name or judge.name, engine, write, alce_exact=alce_exact)
            else:
                for item, rec in tasks:
                    write(score_record(item, rec, judge, alce_exact=alce_exact))
    finally:
        bar.close()
    return done


def _system_rows(
    doc: Mapping[str, Any], answers: Mapping[Key, Mapping[str, Any]], scores: Mapping[Key, Mapping[str, Any]]
) -> tuple[dict[str, Any], bool]:
    """Per system: aggregated metrics, counts, seconds a question, model facts; and whether the
    systems were compared on a shared set of questions."""
    order = list(dict.fromkeys([*doc.get("systems", []), *(k[0] for k in answers)]))
    models = doc.get("models", {})
    # Systems are compared on the same questions: those every system has answered (a run that
    # is still growing has more answers for its first systems).
    present = [n for n in order if any(k[0] == n for k in answers)]
    common = set.intersection(*({k[1] for k in answers if k[0] == n} for n in present)) if present else set()
    systems: dict[str, Any] = {}
    for name in present:
        answered = [k for k in answers if k[0] == name]
        keys = [k for k in answered if k[1] in common] or answered
        per_q = [metrics.QuestionScores(**{k: v for k, v in scores[k].items() if k != "system"}) for k in keys]
        totals = [float(answers[k].get("timings", {}).get("total", float("nan"))) for k in keys]
        kind, _, generator = name.partition("/")
        facts = models.get(generator) or model_facts(generator)
        agg = metrics.aggregate(per_q)
        systems[name] = {
            "kind": kind,
            "generator": generator,
            "params": facts.get("params"),
            "file_size": facts.get("file_size"),
            "n_questions": len(per_q),
            "n_answered": len(answered),
            "empty_answers": sum(not str(answers[k].get("output", "")).strip() for k in keys),
            "quoted_fallbacks": sum(bool(answers[k].get("quoted_fallback")) for k in keys),
            # answers that said the passages do not answer (runs before this field: all answered)
            "unanswered": sum(answers[k].get("answered") is False for k in keys),
            "seconds_per_question": sum(totals) / len(totals) if totals else None,
            "metrics": {k: v for k, v in agg.items() if not k.startswith("n_")},
            "counts": {k: int(v) for k, v in agg.items() if k.startswith("n_")},
        }
    return systems, bool(common)


def score_run(
    run_dir: str | Path,
    judge: str | Judge | None = None,
    *,
    alce_exact: bool = True,
    progress: bool = True,
    command: str | None = None,
    engine: RayEngine | None = None,
) -> dict[str, Any]:
    """Score a run's answers with ``judge`` (a name for ``rag.judges.load_judge``, a Judge, or
    ``"none"``; default: the run's configured judge) and write the report; returns the summary.

    With ``engine`` (and a judge given by name) the answers are scored by a pool of Ray actors,
    each loading the judge once; the score lines are the same, in completion order."""
    run_dir = Path(run_dir)
    doc, config, records = load_run(run_dir)
    if not records:
        raise RagError(f"{run_dir} has no answers yet; run `rag eval --run {run_dir.name}` first")
    judge_obj, judge_info = _resolve_judge(config.judge if judge is None else judge)
    spath = scores_path(run_dir, judge_info["name"], alce_exact)
    answers = latest(records)
    judge_name = config.judge if judge is None else judge
    if engine is not None and not isinstance(judge_name, str):
        raise RagError("scoring on Ray needs the judge by name (each worker loads its own)")
    try:
        scores = _score_answers(
            run_dir,
            config,
            answers,
            judge_obj,
            spath,
            alce_exact=alce_exact,
            progress=progress,
            engine=engine,
            judge_name=judge_name if isinstance(judge_name, str) else None,
        )
    finally:
        if judge_obj is not None and not isinstance(judge, Judge):
            judge_obj.close()  # loaded here from a name: free it here, not at interpreter exit
    systems, common = _system_rows(doc, answers, scores)
    pipe = config.pipeline
    summary = build_summary(
        run=run_dir.name,
        systems=systems,
        judge=judge_info,
        corpus=doc.get("corpus"),
        k=config.k,
        extra={
            "alce_exact": alce_exact,
            "prompt": pipe.prompt,
            "data": config.data_path(),
            "subset": config.subset,
            "seed": config.seed,
            "scores_file": spath.name,
            "citing": {
                "cite": pipe.cite,
                "hide_unsupported": pipe.hide_unsupported,
                "quote_fallback": pipe.quote_fallback,
                "attribution_judge": pipe.attribution_judge if pipe.needs_attribution_judge else None,
            },
            # runs from before config.json held the whole pipeline: only the fields they recorded
            "pipeline": pipe.to_dict() if "pipeline" in doc.get("run", {}) else None,
            "self_graded": config.self_graded(judge_info["name"]),
            "questions": "those answered by every system" if common else "all answered",
            "command": command,
        },
    )
    write_report(summary, run_dir)
    return summary
