"""Train a KMNIST classifier (lin, full or conv) and report how well it does.

    python3 kuzu_main.py --net conv

Prints the parameter count, a 'Train Epoch' line every 100 batches and, after every
epoch, the test confusion matrix and accuracy in the course's format; after the last
epoch the three most confused character pairs. Writes into --plot_dir (default plot/):
kuzu_{net}_params.txt, kuzu_{net}_confusion.csv and kuzu_{net}_confusion.jpg.
"""
import math
import os
import sys

# OpenMP threads that spin while they wait starve each other when other jobs share the
# cores (conv steps measured 3-5x slower); sleeping waits cost little on a quiet machine.
# Must be set before torch loads its OpenMP runtime; a user's own setting wins.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import torch  # noqa: E402

from common import (CliParser, atomic_torch_save, atomic_write_text,  # noqa: E402
                    ensure_dir, nonneg_float, positive_int, run_cli, set_seed)
from kuzu import FULL_HIDDEN, NETS, make_net, parameter_report  # noqa: E402
from kuzu_data import default_root, load_kmnist, sample_images  # noqa: E402
from kuzu_report import confused_lines, plot_confusion, write_confusion_csv  # noqa: E402
from kuzu_train import evaluate, prepare, print_test, threads_for, train_epoch  # noqa: E402


def parse_args(argv=None):
    parser = CliParser(description=__doc__.split('\n')[0])
    # The course's original flags.
    parser.add_argument('--net', type=str, default='full', choices=sorted(NETS),
                        help='lin, full or conv (default full)')
    parser.add_argument('--lr', type=float, default=0.01, help='learning rate (default 0.01)')
    parser.add_argument('--mom', type=nonneg_float, default=0.5, help='momentum (default 0.5)')
    parser.add_argument('--epochs', type=positive_int, default=10, help='epochs (default 10)')
    parser.add_argument('--no_cuda', action='store_true', default=False,
                        help='train on the CPU even if a GPU is available')
    # Ours.
    parser.add_argument('--hid', type=positive_int, default=FULL_HIDDEN,
                        help=f'hidden units of NetFull (default {FULL_HIDDEN})')
    parser.add_argument('--seed', type=int, default=1, help='random seed (default 1)')
    parser.add_argument('--data', type=str, default=None,
                        help='folder holding KMNIST/raw; downloaded there when missing '
                             '(default $KUZU_DATA, else ./data)')
    parser.add_argument('--plot_dir', type=str, default='plot',
                        help='folder for the pictures and tables (default plot)')
    parser.add_argument('--save', type=str, default=None, metavar='PATH',
                        help='save the trained state dict to PATH')
    parser.add_argument('--train_count', type=positive_int, default=None, metavar='N',
                        help='train on N images per epoch, repeating the available ones in '
                             'order (for speed measurements; default: all of them)')
    args = parser.parse_args(argv)
    if not (math.isfinite(args.lr) and args.lr > 0):
        parser.error(f'--lr must be a positive number, got {args.lr}')
    return args


def output_paths(plot_dir, net_name):
    stem = os.path.join(plot_dir, f'kuzu_{net_name}')
    return {'params': f'{stem}_params.txt', 'csv': f'{stem}_confusion.csv',
            'jpg': f'{stem}_confusion.jpg'}


def main(argv=None):
    args = parse_args(argv)
    paths = output_paths(args.plot_dir, args.net)
    # Fail on an unwritable folder now, not after the training.
    ensure_dir(args.plot_dir)
    if args.save:
        ensure_dir(os.path.dirname(os.path.abspath(args.save)))
    device = torch.device('cuda' if not args.no_cuda and torch.cuda.is_available() else 'cpu')

    train_x, train_y, test_x, test_y = load_kmnist(args.data or default_root(),
                                                   fallback=args.data is None)
    samples = sample_images(test_x, test_y)
    if args.train_count:
        order = torch.arange(args.train_count) % len(train_x)
        train_x, train_y = train_x[order], train_y[order]

    torch.set_num_threads(threads_for(args.net))
    set_seed(args.seed)
    net = make_net(args.net, args.hid).to(device)
    report = parameter_report(net)
    print(report, flush=True)
    atomic_write_text(paths['params'], report)

    train_x, train_y, test_x, test_y = (t.to(device) for t in (train_x, train_y, test_x, test_y))
    net, (train_x, test_x) = prepare(net, [train_x, test_x], args.net)
    optimizer = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=args.mom)

    finished = None   # (epoch, correct, confusion, state) of the last complete epoch
    interrupted = False
    try:
        for epoch in range(1, args.epochs + 1):
            train_epoch(net, optimizer, train_x, train_y, epoch)
            loss_sum, correct, confusion = evaluate(net, test_x, test_y)
            state = ({k: v.detach().clone() for k, v in net.state_dict().items()}
                     if args.save else None)
            finished = (epoch, correct, confusion, state)
            print_test(loss_sum, correct, confusion, len(test_y))
    except KeyboardInterrupt:
        if finished is None:
            raise
        interrupted = True
        print(f'\ninterrupted after epoch {finished[0]} of {args.epochs}; the outputs '
              f'hold that epoch', file=sys.stderr, flush=True)

    epoch, correct, confusion, state = finished
    print(confused_lines(confusion), flush=True)
    write_confusion_csv(confusion, paths['csv'])
    accuracy = 100. * correct / len(test_y)
    title = (f'{type(net).__name__} on the KMNIST test set: accuracy {accuracy:.2f}% '
             f'({correct}/{len(test_y)}), epoch {epoch}')
    plot_confusion(confusion, paths['jpg'], title, samples)
    written = [paths['params'], paths['csv'], paths['jpg']]
    if args.save:
        atomic_torch_save({k: v.cpu().contiguous() for k, v in state.items()}, args.save)
        written.append(args.save)
    print('wrote ' + ', '.join(written), flush=True)
    if interrupted:
        raise KeyboardInterrupt


if __name__ == '__main__':
    run_cli(main)
