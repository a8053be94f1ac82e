#!/usr/bin/python3
"""Reference firing rates for brainsim's COBA and CUBA benchmark networks, from Brian2.

Simulates both networks, exactly as brainsim defines them, over several seeds
(each seed gives different connectivity and initial membrane potentials) and
writes per-seed mean rates of E and I plus min/max/mean/std across seeds to
tests/data/brian2_rates.json.  brainsim's tests compare against these numbers
statistically (a different RNG cannot reproduce Brian2 spike for spike).

Networks (dt = 0.1 ms, 1 s, exponential_euler, 3200 E + 800 I, tau_m 20 ms,
refractory 5 ms with v clamped, threshold v >= -50 mV, reset -60 mV,
independent Bernoulli connectivity p = 0.02 for every (pre, post) pair of the
whole 4000-neuron group incl. self-pairs, initial v ~ U[-60, -50] mV):

  COBA: dv/dt = (ge*(Ee-v) + gi*(Ei-v) - (v-El) + I)/taum, ge, gi dimensionless,
        El = -60 mV, I = 20 mV, Ee = 0 mV, Ei = -80 mV,
        dge/dt = -ge/5ms, dgi/dt = -gi/10ms, E spike: ge += 0.6, I spike: gi += 6.7
  CUBA: dv/dt = (ge + gi - (v-El))/taum, ge, gi in volt, El = -49 mV, I = 0,
        same synaptic time constants, E spike: ge += 1.62 mV, I spike: gi += -9 mV

Synaptic delay: none.  Brian2's default schedule (groups, thresholds, synapses,
resets) applies on_pre increments in the step the spike is emitted, after the
state update, so a spike in step n first affects v in step n+1 -- the same
convention as brainsim.

Device: cpp_standalone.  Each (model, seed) runs in a child process (so every
run starts from a clean Brian2 device) that builds into one project directory
per model.  Brian2 only rewrites generated files whose content changed, so
after the first seed only main.cpp (which holds the seed) is recompiled.

Usage:
  /usr/bin/python3 tools/brian2_coba_rates.py [--seeds 8] [--out tests/data/brian2_rates.json]
"""

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

N_E, N_I = 3200, 800
P_CONNECT = 0.02
DT_MS = 0.1
DURATION_S = 1.0


def simulate(model, seed, directory):
    """Run one network in Brian2 cpp_standalone; return E and I mean rates in Hz."""
    # Imported here so that the parent process never touches the Brian2 device.
    from brian2 import (NeuronGroup, Synapses, SpikeMonitor, Network, mV, ms,
                        second, defaultclock, prefs, set_device, device, seed as b2seed)

    set_device('cpp_standalone', directory=directory, build_on_run=True)
    prefs.devices.cpp_standalone.openmp_threads = 0  # single-threaded
    defaultclock.dt = DT_MS * ms
    b2seed(seed)

    if model == 'COBA':
        eqs = '''
        dv/dt  = (ge*(Ee-v) + gi*(Ei-v) - (v-El) + I)/taum : volt (unless refractory)
        dge/dt = -ge/taue : 1
        dgi/dt = -gi/taui : 1
        '''
        ns = dict(El=-60 * mV, Ee=0 * mV, Ei=-80 * mV, I=20 * mV, we=0.6, wi=6.7)
    elif model == 'CUBA':
        eqs = '''
        dv/dt  = (ge + gi - (v-El))/taum : volt (unless refractory)
        dge/dt = -ge/taue : volt
        dgi/dt = -gi/taui : volt
        '''
        ns = dict(El=-49 * mV, we=1.62 * mV, wi=-9.0 * mV)
    elif model == 'COBAHH':
        return simulate_cobahh(seed)
    else:
        raise ValueError(model)
    ns.update(taum=20 * ms, taue=5 * ms, taui=10 * ms, Vt=-50 * mV, Vr=-60 * mV)

    # Brian2 automatically ANDs the threshold with not_refractory.
    P = NeuronGroup(N_E + N_I, eqs, threshold='v >= Vt', reset='v = Vr',
                    refractory=5 * ms, method='exponential_euler', namespace=ns)
    P.v = '-60*mV + 10*mV*rand()'
    P.ge = 0
    P.gi = 0
    Pe, Pi = P[:N_E], P[N_E:]
    # Targets are the whole group, so self-pairs are candidates too.
    Ce = Synapses(Pe, P, on_pre='ge += we', namespace=ns)
    Ci = Synapses(Pi, P, on_pre='gi += wi', namespace=ns)
    Ce.connect(p=P_CONNECT)
    Ci.connect(p=P_CONNECT)
    mon = SpikeMonitor(P, record=False)  # per-neuron counts only

    net = Network(P, Ce, Ci, mon)
    t0 = time.time()
    net.run(DURATION_S * second)  # build_on_run: compiles and runs here
    wall = time.time() - t0

    counts = mon.count[:]
    return {
        'seed': seed,
        'rate_E': float(counts[:N_E].sum()) / (N_E * DURATION_S),
        'rate_I': float(counts[N_E:].sum()) / (N_I * DURATION_S),
        'n_syn_E': int(len(Ce)),
        'n_syn_I': int(len(Ci)),
        'wall_build_and_run_s': round(wall, 2),
        'binary_run_s': round(device.timers.get('run_binary', float('nan')), 3),
    }


def simulate_cobahh(seed):
    """Brian2's COBAHH example as configs/cobahh.yaml defines it: per unit
    area (mS/cm^2, uF/cm^2; Brian2's example divides every conductance by the
    same 20,000 um^2 area, so the dynamics are the same), m = h = n = 0 and
    ge = gi = 0 at the start (brainsim's traces start at 0; Brian2's example
    draws them), v ~ N(-65, 5) mV, a spike is an upward crossing of -20 mV
    (threshold 'v > -20 mV' with a 3 ms dead time, as the example), no
    reset. Device and clock are set up by simulate()."""
    from brian2 import (NeuronGroup, Synapses, SpikeMonitor, Network, mV, ms,
                        second, device)
    ns = dict(El=-60 * mV, EK=-90 * mV, ENa=50 * mV, VT=-63 * mV, Ee=0 * mV,
              Ei=-80 * mV, taue=5 * ms, taui=10 * ms, Cm=1.0, gl=0.05,
              g_na=100.0, g_kd=30.0, we=0.03, wi=0.335)
    eqs = '''
    dv/dt = (gl*(El-v) + ge*(Ee-v) + gi*(Ei-v) - g_na*(m*m*m)*h*(v-ENa)
             - g_kd*(n*n*n*n)*(v-EK))/Cm/ms : volt
    dm/dt = alpha_m*(1-m)-beta_m*m : 1
    dn/dt = alpha_n*(1-n)-beta_n*n : 1
    dh/dt = alpha_h*(1-h)-beta_h*h : 1
    dge/dt = -ge/taue : 1
    dgi/dt = -gi/taui : 1
    alpha_m = 0.32*(mV**-1)*4*mV/exprel((13*mV-v+VT)/(4*mV))/ms : Hz
    beta_m = 0.28*(mV**-1)*5*mV/exprel((v-VT-40*mV)/(5*mV))/ms : Hz
    alpha_h = 0.128*exp((17*mV-v+VT)/(18*mV))/ms : Hz
    beta_h = 4./(1+exp((40*mV-v+VT)/(5*mV)))/ms : Hz
    alpha_n = 0.032*(mV**-1)*5*mV/exprel((15*mV-v+VT)/(5*mV))/ms : Hz
    beta_n = .5*exp((10*mV-v+VT)/(40*mV))/ms : Hz
    '''
    P = NeuronGroup(N_E + N_I, eqs, threshold='v > -20*mV', refractory=3 * ms,
                    method='exponential_euler', namespace=ns)
    P.v = '-65*mV + 5*mV*randn()'
    Pe, Pi = P[:N_E], P[N_E:]
    Ce = Synapses(Pe, P, on_pre='ge += we', namespace=ns)
    Ci = Synapses(Pi, P, on_pre='gi += wi', namespace=ns)
    Ce.connect(p=P_CONNECT)
    Ci.connect(p=P_CONNECT)
    mon = SpikeMonitor(P, record=False)
    net = Network(P, Ce, Ci, mon)
    t0 = time.time()
    net.run(DURATION_S * second)
    wall = time.time() - t0
    counts = mon.count[:]
    return {
        'seed': seed,
        'rate_E': float(counts[:N_E].sum()) / (N_E * DURATION_S),
        'rate_I': float(counts[N_E:].sum()) / (N_I * DURATION_S),
        'n_syn_E': int(len(Ce)),
        'n_syn_I': int(len(Ci)),
        'wall_build_and_run_s': round(wall, 2),
        'binary_run_s': round(device.timers.get('run_binary', float('nan')), 3),
    }


def summarize(values):
    return {
        'min': min(values),
        'max': max(values),
        'mean': statistics.fmean(values),
        'std': statistics.stdev(values) if len(values) > 1 else 0.0,  # sample std (n-1)
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seeds', type=int, default=16, help='number of seeds')
    ap.add_argument('--first-seed', type=int, default=1)
    ap.add_argument('--models', default='COBA,CUBA')
    ap.add_argument('--out', default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'data', 'brian2_rates.json'))
    ap.add_argument('--workdir', default=None,
                    help='where Brian2 projects are built (default: temp dir, removed)')
    ap.add_argument('--worker', nargs=3, metavar=('MODEL', 'SEED', 'DIR'),
                    help=argparse.SUPPRESS)  # internal: one run, JSON on stdout
    args = ap.parse_args()

    if args.worker:
        model, seed, directory = args.worker
        res = simulate(model, int(seed), directory)
        print('RESULT ' + json.dumps(res))
        return

    import brian2
    workdir = args.workdir or tempfile.mkdtemp(prefix='brian2_rates_')
    models = args.models.split(',')
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    out = {
        'source': ' '.join(['/usr/bin/python3 tools/brian2_coba_rates.py'] + sys.argv[1:])
                  + f' (Brian2 {brian2.__version__}, cpp_standalone, single thread)',
        'brian2_version': brian2.__version__,
        'generated': datetime.datetime.now().isoformat(timespec='seconds'),
        'network': {'N_E': N_E, 'N_I': N_I, 'p': P_CONNECT, 'dt_ms': DT_MS,
                    'duration_s': DURATION_S, 'method': 'exponential_euler',
                    'rate_definition': 'total spikes of population / (population size * duration)',
                    'timing_conventions': (
                        'spike in step n increments ge/gi after the step-n state update, so it first '
                        'affects v in step n+1; exponential_euler updates v with ge/gi held at their '
                        'start-of-step values; refractory: v held at V_reset through steps n+1..n+49 '
                        'and integrated again from step n+50 (Brian2: timestep(t-lastspike) >= '
                        'timestep(5ms)); threshold ANDed with not_refractory')},
        'notes': [
            'summary std is the sample standard deviation (n-1) across seeds',
            'Brian2 seed s gives the same connectivity and initial v for COBA and CUBA',
            'per-seed spread of the E mean is larger than that of I although E has 4x more '
            'neurons, probably because E neurons sit in recurrent excitatory loops and '
            'the E rate carries more network-specific (quenched) variability; compare '
            'against the seed spread, not a binomial error on the spike count',
        ],
        'models': {},
    }
    t_all = time.time()
    try:
        for model in models:
            directory = os.path.join(workdir, model)
            runs = []
            for s in seeds:
                t0 = time.time()
                proc = subprocess.run([sys.executable, os.path.abspath(__file__),
                                       '--worker', model, str(s), directory],
                                      capture_output=True, text=True)
                lines = [l for l in proc.stdout.splitlines() if l.startswith('RESULT ')]
                if proc.returncode != 0 or not lines:
                    sys.stderr.write(proc.stdout + proc.stderr)
                    sys.exit(f'{model} seed {s} failed')
                res = json.loads(lines[-1][len('RESULT '):])
                res['wall_process_s'] = round(time.time() - t0, 2)
                runs.append(res)
                print(f"{model} seed {s}: E {res['rate_E']:.3f} Hz  I {res['rate_I']:.3f} Hz  "
                      f"(binary {res['binary_run_s']:.2f} s, process {res['wall_process_s']:.1f} s)",
                      flush=True)
            out['models'][model] = {
                'per_seed': runs,
                'summary': {'E': summarize([r['rate_E'] for r in runs]),
                            'I': summarize([r['rate_I'] for r in runs])},
            }
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    out['total_wall_s'] = round(time.time() - t_all, 1)

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(out, f, indent=2)
        f.write('\n')
    for model, d in out['models'].items():
        for pop in ('E', 'I'):
            s = d['summary'][pop]
            print(f"{model} {pop}: mean {s['mean']:.3f}  std {s['std']:.3f}  "
                  f"min {s['min']:.3f}  max {s['max']:.3f} Hz")
    print(f'wrote {os.path.abspath(args.out)}')


if __name__ == '__main__':
    main()
