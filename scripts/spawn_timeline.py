#!/usr/bin/env python3
"""Reads a trace from scripts/trace-spawns.sh and says, per back-to-back
spawn: the period (one request to the next), each process's CPU (from
sched_switch), its system calls, and each wake-up on the critical path
(client -> supervisor -> worker -> supervisor -> client): how long the woken
process waited for a CPU, and how often it was woken onto the other CPU.
With --cycles FIRST COUNT it also prints those spawns' events in order,
times relative to each request.

A spawn starts at the client's sendmsg (spawn_loop sends one message per
spawn). Processes are told apart by name: spawn_loop (C), the supervisor
(S: the binary's own name), sbx-worker (W), sbx-template (T; a template's
child keeps that name until its prctl), sbx-zygote (Z)."""
import argparse
import collections
import re
import signal
import statistics

SYSCALLS = {0: 'read', 1: 'write', 3: 'close', 7: 'poll', 14: 'rt_sigprocmask', 33: 'dup2',
            39: 'getpid', 46: 'sendmsg', 47: 'recvmsg', 53: 'socketpair', 56: 'clone', 61: 'wait4',
            98: 'getrusage', 110: 'getppid', 157: 'prctl', 231: 'exit_group', 232: 'epoll_wait',
            233: 'epoll_ctl', 302: 'prlimit64', 436: 'close_range'}
LINE = re.compile(r'\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+):\s+(\w+):\s*(.*)')
SWITCH = re.compile(r'prev_comm=(.+?) prev_pid=\d+ .*prev_state=(\S+) ==> next_comm=(.+?) next_pid')
WAKEUP = re.compile(r'comm=(.+?) pid=\d+ .*target_cpu=(\d+)')
HOPS = ('C>S', 'S>W', 'W>S', 'S>C')


def role(comm):
    if comm.startswith('spawn_loop'):
        return 'C'
    for prefix, r in (('sbx-worker', 'W'), ('sbx-template', 'T'), ('sbx-zygote', 'Z')):
        if comm.startswith(prefix):
            return r
    if comm.startswith('sbx'):
        return 'S'
    return None


def name(comm):
    r = role(comm)
    return r if r else re.sub(r'[/:-].*', '', comm)


def parse(path):
    """Events as (us, cpu, who, text); the spawns as lists of them."""
    spawns, current = [], None
    for line in open(path, errors='replace'):
        m = LINE.match(line)
        if not m:
            continue
        comm, cpu, t, event, detail = m.group(1), int(m.group(3)), float(m.group(4)) * 1e6, \
            m.group(5), m.group(6)
        who = name(comm)
        if event in ('sys_enter', 'sys_exit'):
            nr = re.match(r'NR (-?\d+)', detail)
            if not nr:
                continue
            call = SYSCALLS.get(int(nr.group(1)), nr.group(1))
            if event == 'sys_enter' and who == 'C' and call == 'sendmsg':
                current = {'t0': t, 'events': []}
                spawns.append(current)
            text = ('>' if event == 'sys_enter' else '<') + call
        elif event == 'sched_wakeup':
            m2 = WAKEUP.search(detail)
            text = 'WAKE %s on %s' % (name(m2.group(1)), m2.group(2)) if m2 else detail
        elif event == 'sched_switch':
            m2 = SWITCH.search(detail)
            text = 'SWITCH %s(%s) -> %s' % (name(m2.group(1)), m2.group(2), name(m2.group(3))) \
                if m2 else detail
        else:
            continue
        if current is not None:
            current['events'].append((t, cpu, who, event, text))
    return spawns


def cpu_per_process(spawns):
    since, total = {}, collections.Counter()
    for s in spawns:
        for t, cpu, _, event, text in s['events']:
            if event != 'sched_switch':
                continue
            prev = text.split()[1].split('(')[0]
            if cpu in since:
                total[prev] += t - since[cpu]
            since[cpu] = t
    return total


def hops(spawn):
    """Per hop of the critical path: (wait from wake-up to running, woken
    onto another CPU than the waker's)."""
    found, ev = {}, spawn['events']
    for i, (t, cpu, who, event, text) in enumerate(ev):
        if event != 'sched_wakeup':
            continue
        _, woken, _, target = text.split()
        hop = '%s>%s' % (who, woken)
        if hop not in HOPS or hop in found:
            continue
        for t2, _, _, e2, text2 in ev[i + 1:]:
            if e2 == 'sched_switch' and text2.endswith('-> ' + woken):
                found[hop] = (t2 - t, int(target) != cpu)
                break
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('trace')
    ap.add_argument('--cycles', nargs=2, type=int, metavar=('FIRST', 'COUNT'))
    a = ap.parse_args()
    spawns = parse(a.trace)
    if len(spawns) < 3:
        raise SystemExit('no spawns in %s' % a.trace)
    spawns = spawns[:-1]  # the last one's events run past the end of the trace
    n = len(spawns)
    if a.cycles:
        for s in spawns[a.cycles[0]:a.cycles[0] + a.cycles[1]]:
            print('---- spawn')
            for t, cpu, who, _, text in s['events']:
                print('%8.1f [%d] %-3s %s' % (t - s['t0'], cpu, who, text))
    periods = sorted(spawns[i + 1]['t0'] - spawns[i]['t0'] for i in range(n - 1))
    q = [periods[int(len(periods) * f)] for f in (0.25, 0.5, 0.75, 0.9)]
    print('%d spawns; period (one request to the next) us: p25 %.0f p50 %.0f p75 %.0f p90 %.0f'
          % (n, *q))
    print('\nCPU per spawn (us), from sched_switch:')
    for who, us in cpu_per_process(spawns).most_common(10):
        print('  %-12s %7.1f' % (who, us / n))
    calls = collections.Counter()
    for s in spawns:
        for _, _, who, event, text in s['events']:
            if event == 'sys_enter' and who in 'CSWTZ':
                calls[(who, text[1:])] += 1
    print('\nsystem calls per spawn:')
    for who in 'CSTWZ':
        mine = sorted(((c, v) for (w, c), v in calls.items() if w == who), key=lambda x: -x[1])
        print('  %s %5.1f: %s' % (who, sum(v for _, v in mine) / n,
                                  ', '.join('%s %.2f' % (c, v / n) for c, v in mine if v >= n / 10)))
    waits, cross = collections.defaultdict(list), collections.Counter()
    for s in spawns:
        for hop, (us, other_cpu) in hops(s).items():
            waits[hop].append(us)
            cross[hop] += other_cpu
    print('\nwake-up to running (us) on the critical path:')
    for hop in HOPS:
        v = sorted(waits[hop])
        if v:
            print('  %s  n %5d  p50 %5.0f  p90 %5.0f  onto the other CPU %3.0f%%'
                  % (hop, len(v), statistics.median(v), v[int(len(v) * 0.9)],
                     100 * cross[hop] / len(v)))


if __name__ == '__main__':
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head
    main()
