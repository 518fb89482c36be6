"""One console line per epoch of an MMEngine run; its full output to a log.

    python tools/lib/progress_filter.py --log WORK/train.log --label rgb \\
        -- python tools/train.py CONFIG --work-dir WORK ...
    COMMAND 2>&1 | python tools/lib/progress_filter.py --log LOG --label L

The main jobs (``tools/lib/synthetic_data.sh``) run ``tools/train.py`` and
``tools/test.py`` through it. Everything COMMAND writes (stdout and stderr:
MMEngine's config dump and hook table, warnings, tracebacks) goes to
``--log``, appended, after a header line naming the command and the time;
the console gets only:

* one line per training epoch, from MMEngine's last ``Epoch(train)
  [e][n/n]`` log line of the epoch (the configs log it:
  ``LoggerHook(ignore_last=False)``): epoch e / max_epochs (read from the
  config dump), the loss (MMEngine's windowed mean), the ETA of the whole
  schedule and the time since the start; on a terminal, a line that updates
  in place at every logged iteration in between;
* ``resumed at epoch e`` when MMEngine resumes an interrupted run;
* the accuracies of each ``Epoch(val)`` and ``Epoch(test)`` pass;
* on success, ``done in ..., full log: LOG``; on failure, the last
  ``--tail`` bytes of the output, the log's path and COMMAND's exit status
  (which is also this script's). ``--quiet``: only this last line;
  ``--no-done``: no line on success.

Without COMMAND it filters its standard input instead (exit status 0; the
shell's ``pipefail`` reports the command's). Parsing never stops the copy
to the log: a line it does not understand is only logged. Standard library
only (starts in milliseconds, runs in any Python).
"""
import argparse
import collections
import datetime
import os
import re
import shutil
import subprocess
import sys
import time

TRAIN = re.compile(r'Epoch\(train\)\s*\[(\d+)\]\s*\[\s*(\d+)\s*/\s*(\d+)\]'
                   r'(.*)$')
EVAL = re.compile(r'Epoch\((val|test)\)\s*(?:\[(\d+)\]\s*)?'
                  r'\[\s*(\d+)\s*/\s*(\d+)\](.*)$')
METRIC = re.compile(r'([A-Za-z_][\w/.@-]*):\s+(\S+)')
MAX_EPOCHS = re.compile(r'\bmax_epochs=(\d+)')
RESUMED = re.compile(r'resumed epoch:\s*(\d+)')
ACC_NAMES = {'acc/top1': 'top-1', 'acc/top5': 'top-5',
             'acc/mean1': 'mean class'}


def metrics(text):
    """``{name: value}`` of MMEngine's ``name: value`` pairs."""
    return dict(METRIC.findall(text))


def clock(seconds):
    seconds = int(round(seconds))
    return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


def accuracies(values):
    """``top-1 42.7  top-5 87.2  mean class 45.6`` from the ``acc/*``
    metrics (fractions, printed as %), else the other metrics as logged."""
    parts = []
    for key, value in values.items():
        if key.startswith('acc/'):
            try:
                value = f'{100 * float(value):.1f}'
            except ValueError:
                pass
            parts.append(f'{ACC_NAMES.get(key, key)} {value}')
    if not parts:
        parts = [f'{k} {v}' for k, v in values.items()
                 if k not in ('eta', 'time', 'data_time', 'memory')]
    return '  '.join(parts)


class Progress:
    """Turns MMEngine log lines into concise console lines.

    ``feed(line)`` returns the finished lines to print (possibly none) and
    keeps in ``live`` the in-progress line of the current epoch (printed in
    place on a terminal); ``close()`` returns what is still pending. The
    caller adds the indentation and the label."""

    def __init__(self, max_epochs=None, clock_fn=time.monotonic):
        self.max_epochs = max_epochs
        self.read_max_epochs = max_epochs is None
        self.started = False  # a training line was seen
        self.clock = clock_fn
        self.start = clock_fn()
        self.pending = None  # (epoch, iter, n, values) not yet printed
        self.last_epoch = None  # last epoch printed
        self.live = None

    def _epoch_line(self, epoch, values):
        total = f'/{self.max_epochs}' if self.max_epochs else ''
        width = len(str(self.max_epochs or epoch))
        parts = [f'epoch {epoch:>{width}}{total}']
        if 'loss' in values:
            parts.append(f'loss {values["loss"]}')
        if 'eta' in values:
            parts.append(f'eta {values["eta"]}')
        parts.append(f'[{clock(self.clock() - self.start)} elapsed]')
        return '  '.join(parts)

    def _flush(self):
        out = []
        if self.pending is not None:
            epoch, i, n, values = self.pending
            line = self._epoch_line(epoch, values)
            out.append(line + (f'  (iter {i}/{n})' if i < n else ''))
            self.last_epoch = epoch
        self.pending = self.live = None
        return out

    def feed(self, line):
        out = []
        if self.read_max_epochs and not self.started:
            # the config dump's train_cfg (the top-level variable is printed
            # as 'max_epochs = 15' and may be stale after --cfg-options)
            m = MAX_EPOCHS.search(line)
            if m:
                self.max_epochs = int(m.group(1))
        m = TRAIN.search(line)
        if m:
            self.started = True
            epoch, i, n = (int(g) for g in m.groups()[:3])
            values = metrics(m.group(4))
            if self.pending is not None and self.pending[0] != epoch:
                out += self._flush()  # the epoch's last line was not logged
            self.pending = (epoch, i, n, values)
            if i >= n:
                out += self._flush()
            else:
                self.live = (self._epoch_line(epoch, values)
                             + f'  (iter {i}/{n})')
            return out
        m = EVAL.search(line)
        if m:
            mode, epoch, i, n, rest = m.groups()
            if int(i) >= int(n):
                out += self._flush()
                at = f' (epoch {epoch})' if epoch else ''
                out.append(f'{mode}{at}: {accuracies(metrics(rest))}')
            return out
        m = RESUMED.search(line)
        if m:
            out += self._flush()
            out.append(f'resumed at epoch {m.group(1)}')
        return out

    def close(self):
        return self._flush()


class Quiet(Progress):
    """Reports nothing (``--quiet``)."""

    def feed(self, line):
        return []


class Console:
    """Prints ``  LABEL  text`` lines; on a terminal also the live line,
    rewritten in place (``\\r``)."""

    def __init__(self, label, stream=sys.stdout, live=None):
        self.prefix = f'    {label}  ' if label else '    '
        self.stream = stream
        self.live = stream.isatty() if live is None else live
        self.shown = 0  # width of the live line on screen
        self.showing = None  # its text
        self.width = shutil.get_terminal_size().columns - 1

    def _clear(self):
        if self.shown:
            self.stream.write('\r' + ' ' * self.shown + '\r')
            self.shown = 0

    def print(self, lines, live=None):
        if self.live and live:  # one screen row, or \r cannot redraw it
            live = (self.prefix + live)[:self.width]
        else:
            live = None
        if not lines and live == self.showing:
            return
        self._clear()
        for text in lines:
            self.stream.write(self.prefix + text + '\n')
        if live:
            self.stream.write(live)
            self.shown = len(live)
        self.showing = live
        self.stream.flush()


def copy_and_report(lines, log, progress, console, tail):
    """Writes each (bytes) line to ``log``, reports it; keeps the tail."""
    for raw in lines:
        log.write(raw)
        log.flush()
        tail.append(raw)
        try:
            text = raw.decode('utf-8', 'replace')
            out = []
            for piece in text.replace('\r', '\n').splitlines():
                out += progress.feed(piece)
            console.print(out, progress.live)
        except Exception:  # noqa: BLE001  a report must never stop the log
            pass


def tail_text(chunks, size):
    data = b''.join(chunks)[-size:]
    return data.decode('utf-8', 'replace')


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        usage='%(prog)s --log LOG [--label LABEL] [--quiet | --no-done] '
        '[-- COMMAND ...]')
    parser.add_argument('--log', required=True,
                        help='file that receives the whole output (appended)')
    parser.add_argument('--label', default='',
                        help='name printed at the start of each line')
    parser.add_argument('--max-epochs', type=int,
                        help='the schedule length (default: from the '
                        "config dump's train_cfg)")
    parser.add_argument('--quiet', action='store_true',
                        help='print only the final line (or the failure)')
    parser.add_argument('--no-done', action='store_true',
                        help='no final line on success')
    parser.add_argument('--tail', type=int, default=3000, metavar='BYTES',
                        help='bytes of output shown when COMMAND fails')
    parser.add_argument('command', nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ['--'] else args.command

    os.makedirs(os.path.dirname(os.path.abspath(args.log)), exist_ok=True)
    progress = Progress(args.max_epochs)
    console = Console(args.label, live=False if args.quiet else None)
    if args.quiet:
        progress = Quiet()
    tail = collections.deque(maxlen=max(50, args.tail // 20))
    start = time.monotonic()
    with open(args.log, 'ab') as log:
        now = datetime.datetime.now().strftime('%Y-%m-%d %H:%M:%S')
        what = ' '.join(command) if command else 'standard input'
        log.write(f'\n===== {now}  {what}\n'.encode())
        if not command:
            copy_and_report(iter(sys.stdin.buffer.readline, b''), log,
                            progress, console, tail)
            console.print(progress.close())
            return 0
        env = dict(os.environ, PYTHONUNBUFFERED='1')
        try:
            proc = subprocess.Popen(command, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, env=env)
        except OSError as e:
            log.write(f'{e}\n'.encode())
            print(f'cannot run {command[0]}: {e}', file=sys.stderr)
            return 127
        try:
            copy_and_report(iter(proc.stdout.readline, b''), log, progress,
                            console, tail)
            status = proc.wait()
        except KeyboardInterrupt:
            console.print([])
            proc.wait()
            raise
    console.print(progress.close())
    if status != 0:
        text = tail_text(tail, args.tail)
        sys.stderr.write(f'{text}\n' if not text.endswith('\n') else text)
        sys.stderr.write(f'{args.label or command[0]}: failed (exit status '
                         f'{status}); full log: {args.log}\n')
        return 128 - status if status < 0 else status  # killed by a signal
    if not args.no_done:
        console.print([f'done in {clock(time.monotonic() - start)}; full log: '
                       f'{args.log}'])
    return 0


if __name__ == '__main__':
    sys.exit(main())
