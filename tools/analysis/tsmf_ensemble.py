"""TSMF's ensemble (paper 003, eq. 1) of any skeleton model with the TSMF
student, from two ``tools/test.py --dump`` files -- Table 2 rows 8-11 (2s-AGCN
or MS-G3D joint models + the student of row 4) and Table 1's "our method".

    python tools/analysis/tsmf_ensemble.py GCN_DUMP TSMF_DUMP [--lam 1] \\
        [--out fused.pkl]

GCN_DUMP: the dump of a skeleton model's test (e.g. MMAction2's stock 2s-AGCN
or MS-G3D configs on the same split), ``pred_score`` per sample; TSMF_DUMP:
the dump of a TSMF stage-2 test, whose samples carry ``student_score``. Both
must list the same samples in the same order (same split, same
annotation); their labels are checked.

The dumps hold probabilities (``average_clips='prob'``). With one test clip
``log softmax(s) = s - logsumexp(s)`` differs from the logits ``s`` by a
constant per sample, so ``log p_GCN + lambda log p_student`` ranks the
classes exactly as eq. 1's ``s_GCN + lambda s_student``; its softmax is
written as the fused ``pred_score``. (With several clips averaged as
probabilities this is the ensemble of those averages.)

Prints top-1 / top-5 / mean class accuracy of the skeleton model, the
student and the ensemble.
"""
import argparse
import os
import os.path as osp
import pickle
import sys

import numpy as np

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from leaderboard import accuracy_row, load_dump  # noqa: E402


def ensemble(gcn: np.ndarray, student: np.ndarray,
             lam: float) -> np.ndarray:
    """Softmax of ``log p_gcn + lam log p_student`` ([N, K] each)."""
    if lam < 0:
        raise ValueError(f'lambda must be >= 0, got {lam}')
    tiny = np.finfo(np.float64).tiny
    logits = np.log(np.maximum(gcn, tiny)) + lam * np.log(
        np.maximum(student, tiny))
    logits -= logits.max(1, keepdims=True)
    prob = np.exp(logits)
    return prob / prob.sum(1, keepdims=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('gcn_dump')
    parser.add_argument('tsmf_dump')
    parser.add_argument('--lam', type=float, default=1.,
                        help='lambda of eq. 1 (default 1)')
    parser.add_argument('--out', help='write the fused results (a dump)')
    args = parser.parse_args(argv)
    gcn, labels = load_dump(args.gcn_dump)
    student, student_labels = load_dump(args.tsmf_dump, 'student_score')
    if gcn.shape != student.shape or not np.array_equal(
            labels, student_labels):
        raise ValueError(
            f'{args.gcn_dump} ({gcn.shape[0]} samples, {gcn.shape[1]} '
            f'classes) and {args.tsmf_dump} ({student.shape[0]}, '
            f'{student.shape[1]}) are not the same samples in the same order '
            '(labels differ); test both on the same split')
    fused = ensemble(gcn, student, args.lam)
    print('| scores | top-1 | top-5 | mean class acc. |\n|---|---:|---:|---:|')
    for name, scores in (('skeleton model', gcn), ('TSMF student', student),
                         (f'ensemble (lambda={args.lam:g})', fused)):
        row = accuracy_row(scores, labels)
        print(f'| {name} | {100 * row["top1"]:.2f} | {100 * row["top5"]:.2f}'
              f' | {100 * row["mean1"]:.2f} |')
    if args.out:
        out = [dict(pred_score=f.astype(np.float32), gt_label=int(y))
               for f, y in zip(fused, labels)]
        tmp = args.out + '.tmp'
        with open(tmp, 'wb') as f:
            pickle.dump(out, f)
        os.replace(tmp, args.out)
        print(f'fused results: {args.out}')


if __name__ == '__main__':
    main()
