"""Train the verifier's adapters and head on the pairs of make_data.py; resumable.

Every ``--save-every`` steps the trained tensors, the optimiser's state and the step go to
``--work`` (safetensors + JSON, no pickle); run the same command again and it goes on from there.
At the end it fits a temperature on the validation pairs (calibration), picks the threshold on
the labelled judge pairs' ``dev`` split (never ``test``), and writes ``adapter.safetensors`` and
``card.json`` to ``--out``.

    python experiments/verifier/make_data.py --out experiments/verifier/data
    python experiments/verifier/train.py --data experiments/verifier/data --out rag/resources/verifier
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import sys
import time
from pathlib import Path

from rag.evaluation.judge_check import load_pairs, select_split
from rag.judges.verifier import ADAPTER_FILE, BASE_MODEL, CARD_FILE, VerifierModel, VerifierShape, card_dict

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def read_pairs(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def balanced(pairs: list[dict], neg_ratio: float, rng: random.Random) -> list[dict]:
    """All supported pairs and all perturbed ones, plus other unsupported pairs sampled so that
    unsupported are ``neg_ratio`` times the supported."""
    positives = [p for p in pairs if p["label"]]
    perturbed = [p for p in pairs if not p["label"] and p["kind"] == "perturbed"]
    others = [p for p in pairs if not p["label"] and p["kind"] != "perturbed"]
    want = max(int(neg_ratio * len(positives)) - len(perturbed), 0)
    return positives + perturbed + rng.sample(others, min(want, len(others)))


def epoch_batches(train: list[dict], size: int, seed: int) -> list[list[int]]:
    """One epoch's batches (row numbers), the same for the same seed: shuffled, then pairs of
    similar length batched together within windows of 50 batches (less padding), batches shuffled."""
    rng = random.Random(seed)
    order = list(range(len(train)))
    rng.shuffle(order)
    batches = []
    window = size * 50
    for start in range(0, len(order), window):
        part = sorted(
            order[start : start + window], key=lambda i: len(train[i]["premise"]) + len(train[i]["hypothesis"])
        )
        batches += [part[k : k + size] for k in range(0, len(part), size)]
    rng.shuffle(batches)
    return batches


def save_state(work: Path, model: VerifierModel, optimiser, step: int, meta: dict) -> None:  # noqa: ANN001
    from safetensors.torch import save_file

    work.mkdir(parents=True, exist_ok=True)
    model.save_trained(work / "trained.safetensors")
    tensors = {}
    names = list(model.trainable())
    for i, param in enumerate(model.trainable().values()):
        state = optimiser.state.get(param, {})
        for key in ("exp_avg", "exp_avg_sq"):
            if key in state:
                tensors[f"{names[i]}::{key}"] = state[key].detach().cpu().contiguous()
    save_file(tensors, str(work / "optimiser.safetensors"))
    (work / "state.json").write_text(json.dumps(meta | {"step": step}), encoding="utf-8")


def load_state(work: Path, model: VerifierModel, optimiser) -> int:  # noqa: ANN001
    import torch
    from safetensors.torch import load_file

    if not (work / "state.json").is_file():
        return 0
    meta = json.loads((work / "state.json").read_text(encoding="utf-8"))
    model.load_trained(work / "trained.safetensors")
    tensors = load_file(str(work / "optimiser.safetensors"))
    step = int(meta["step"])
    for name, param in model.trainable().items():
        if f"{name}::exp_avg" in tensors:
            optimiser.state[param] = {
                "step": torch.tensor(float(step)),
                "exp_avg": tensors[f"{name}::exp_avg"],
                "exp_avg_sq": tensors[f"{name}::exp_avg_sq"],
            }
    print(f"resumed at step {step}", flush=True)
    return step


def metrics(probs: list[float], labels: list[bool], threshold: float) -> dict[str, float]:
    tp = sum(p >= threshold and y for p, y in zip(probs, labels, strict=True))
    fp = sum(p >= threshold and not y for p, y in zip(probs, labels, strict=True))
    fn = sum(p < threshold and y for p, y in zip(probs, labels, strict=True))
    tn = len(labels) - tp - fp - fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "pairs": len(labels),
        "accuracy": round((tp + tn) / len(labels), 4),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "tp": tp,
        "fp": fp,
        "tn": tn,
        "fn": fn,
    }


def fit_temperature(logits: list[float], labels: list[bool]) -> float:
    """The temperature that minimises the validation pairs' log loss (a grid; Guo et al. 2017)."""

    def nll(t: float) -> float:
        total = 0.0
        for z, y in zip(logits, labels, strict=True):
            p = min(max(1 / (1 + math.exp(-z / t)), 1e-6), 1 - 1e-6)
            total -= math.log(p if y else 1 - p)
        return total / len(labels)

    return min((0.25 * k for k in range(1, 41)), key=nll)


def pick_threshold(probs: list[float], labels: list[bool]) -> float:
    """The threshold with the best accuracy on the dev pairs; among ties, the middle one."""
    grid = [round(0.05 * k, 2) for k in range(1, 20)]
    scores = [metrics(probs, labels, t)["accuracy"] for t in grid]
    best = [t for t, s in zip(grid, scores, strict=True) if s == max(scores)]
    return best[len(best) // 2]


def main() -> int:  # noqa: PLR0915 - one training run, read top to bottom
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=HERE / "data")
    ap.add_argument("--out", type=Path, default=REPO / "rag" / "resources" / "verifier")
    ap.add_argument("--work", type=Path, default=HERE / "work")
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--neg-ratio", type=float, default=2.5)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--max-length", type=int, default=320)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save-every", type=int, default=100)
    ap.add_argument("--pairs", type=Path, default=REPO / "tests" / "data" / "judge_pairs.jsonl")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(max(torch.get_num_threads(), 1))
    started = time.time()
    rng = random.Random(args.seed)
    train = balanced(read_pairs(args.data / "train.jsonl"), args.neg_ratio, rng)
    valid = balanced(read_pairs(args.data / "valid.jsonl"), args.neg_ratio, random.Random(args.seed + 1))
    shape = VerifierShape(rank=args.rank, alpha=2.0 * args.rank, max_length=args.max_length)
    model = VerifierModel(shape, device="cpu", seed=args.seed)
    params = list(model.trainable().values())
    optimiser = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    steps_per_epoch = len(epoch_batches(train, args.batch, args.seed * 1000))
    total = int(args.epochs * steps_per_epoch)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / max(total // 20, 1)) * max(0.0, 1 - s / total)
    )
    meta = {"seed": args.seed, "train": len(train), "total": total}
    step = load_state(args.work, model, optimiser)
    for _ in range(step):
        schedule.step()
    loss_fn = torch.nn.BCEWithLogitsLoss()
    print(f"{len(train)} training pairs, {len(valid)} validation, {total} steps of {args.batch}", flush=True)
    running, tick = 0.0, time.time()
    current, batches = -1, []
    while step < total:
        epoch, at = divmod(step, steps_per_epoch)
        if epoch != current:
            current, batches = epoch, epoch_batches(train, args.batch, args.seed * 1000 + epoch)
        batch = [train[i] for i in batches[at]]
        model.train(True)
        logits = model.logits(model.encode([(p["premise"], p["hypothesis"]) for p in batch]))
        loss = loss_fn(logits, torch.tensor([float(p["label"]) for p in batch]))
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimiser.step()
        schedule.step()
        step += 1
        running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
        if step % 20 == 0:
            print(
                f"step {step}/{total} loss {running:.4f} {20 * args.batch / (time.time() - tick):.1f} pairs/s",
                flush=True,
            )
            tick = time.time()
        if step % args.save_every == 0 or step == total:
            save_state(args.work, model, optimiser, step, meta)
    # Calibrate on the validation pairs, choose the threshold on the labelled dev split.
    valid_logits = model.scores([(p["premise"], p["hypothesis"]) for p in valid])
    valid_labels = [bool(p["label"]) for p in valid]
    temperature = fit_temperature(valid_logits, valid_labels)

    def calibrated(logits: list[float]) -> list[float]:
        return [1 / (1 + math.exp(-z / temperature)) for z in logits]

    labelled = load_pairs(args.pairs)
    dev, test = select_split(labelled, "dev"), select_split(labelled, "test")
    dev_probs = calibrated(model.scores([(p.premise, p.hypothesis) for p in dev]))
    threshold = pick_threshold(dev_probs, [p.label for p in dev])
    test_probs = calibrated(model.scores([(p.premise, p.hypothesis) for p in test]))
    record = {
        "base": BASE_MODEL,
        "trained": "low-rank adapters on every attention and feed-forward projection + a linear head",
        "data": {"train_pairs": len(train), "valid_pairs": len(valid), "made_by": "experiments/verifier/make_data.py"},
        "command": "python "
        + " ".join(
            [
                str(Path(sys.argv[0]).relative_to(REPO)) if Path(sys.argv[0]).is_absolute() else sys.argv[0],
                *sys.argv[1:],
            ]
        ),
        "seed": args.seed,
        "epochs": args.epochs,
        "batch": args.batch,
        "lr": args.lr,
        "steps": total,
        "minutes": round((time.time() - started) / 60, 1),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}",
        "metrics": {
            "valid": metrics(calibrated(valid_logits), valid_labels, threshold),
            "judge_pairs_dev": metrics(dev_probs, [p.label for p in dev], threshold),
            "judge_pairs_test": metrics(test_probs, [p.label for p in test], threshold),
        },
    }
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_trained(args.out / ADAPTER_FILE)
    card = card_dict(shape, threshold, temperature, record)
    (args.out / CARD_FILE).write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(record["metrics"], indent=1))
    print(f"threshold {threshold}, temperature {temperature}; wrote {args.out / ADAPTER_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
