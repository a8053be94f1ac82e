"""Independent reference of brainsim's long-term plasticity rules (README
"Long-term plasticity"): the final weight of one synapse from the spike
steps of its pre and post neuron, its delay and its initial weight.

Written from the README's equations, one synapse at a time, walking the
merged list of events in time; it shares no code with src/. Times are in
steps: a pre spike of step n with delay d reaches the synapse at step
a = n + 1 + d (all of the delay is axonal); a post spike of step p reaches
it at once. A trace holds its value after its last jump, x, and that
step; at step m its value is x * exp(-((m - m_last) * (dt / tau))).

Orders of the events:
  time order (stdp_synapse, Triplet): events sorted by (step, pre before
    post); a post spike of step p sees the pre traces at p, a pre arrival
    at step a sees the post traces at a; a spike's own traces jump after
    its update.
  BrainPy order (STDP_Song2000): in step m, the pre arrivals of step m and
    the post spikes of step m - 1 first make their traces jump (stamped
    m), then the pre updates, then the post updates."""
import math


class Trace:
    def __init__(self, taus, dt):
        self.dec = [dt / t for t in taus]
        self.x = [0.0] * len(taus)
        self.last = 0

    def at(self, m):
        gap = float(m - self.last)
        return [x * math.exp(-(gap * d)) for x, d in zip(self.x, self.dec)]

    def jump(self, m):
        self.x = [v + 1.0 for v in self.at(m)]
        self.last = m


def clip(w, lo, hi):
    if lo is not None and w < lo:
        w = lo
    if hi is not None and w > hi:
        w = hi
    return w


class Song2000:
    order = "brainpy"

    def __init__(self, tau_s=16.8, tau_t=33.7, A1=0.96, A2=0.53, W_max=None,
                 W_min=None):
        self.p = dict(A1=A1, A2=A2, lo=W_min, hi=W_max)
        self.pre_taus, self.post_taus = [tau_s], [tau_t]

    def on_pre(self, w, pre, post):
        return clip(w - self.p["A2"] * post[0], self.p["lo"], self.p["hi"])

    def on_post(self, w, pre, post):
        return clip(w + self.p["A1"] * pre[0], self.p["lo"], self.p["hi"])


class NestStdp:
    order = "time"

    def __init__(self, tau_plus=20.0, tau_minus=20.0, lam=0.01, alpha=1.0,
                 mu_plus=1.0, mu_minus=1.0, Wmax=100.0):
        self.lam, self.alpha, self.mp, self.mm, self.W = (lam, alpha, mu_plus,
                                                          mu_minus, Wmax)
        self.pre_taus, self.post_taus = [tau_plus], [tau_minus]

    def on_post(self, w, pre, post):  # facilitation with K+
        nw = w / self.W + self.lam * math.pow(1.0 - w / self.W, self.mp) * pre[0]
        return nw * self.W if nw < 1.0 else self.W

    def on_pre(self, w, pre, post):  # depression with K-
        nw = (w / self.W
              - self.alpha * self.lam * math.pow(w / self.W, self.mm) * post[0])
        return nw * self.W if nw > 0.0 else 0.0


class Triplet:
    order = "time"

    def __init__(self, tau_plus=16.8, tau_x=101.0, tau_minus=33.7, tau_y=125.0,
                 A2_plus=5e-10, A3_plus=6.2e-3, A2_minus=7e-3, A3_minus=2.3e-4,
                 W_max=1.0, W_min=0.0):
        self.a = (A2_plus, A3_plus, A2_minus, A3_minus)
        self.lo, self.hi = W_min, W_max
        self.pre_taus, self.post_taus = [tau_plus, tau_x], [tau_minus, tau_y]

    def on_pre(self, w, pre, post):  # o1 (A2- + A3- r2), r2 before its jump
        return clip(w - post[0] * (self.a[2] + self.a[3] * pre[1]), self.lo,
                    self.hi)

    def on_post(self, w, pre, post):  # r1 (A2+ + A3+ o2), o2 before its jump
        return clip(w + pre[0] * (self.a[0] + self.a[1] * post[1]), self.lo,
                    self.hi)


def final_weight(rule, w0, pre_steps, post_steps, delay, dt, last_step):
    """Weight after step last_step (the last step of the run)."""
    pre = Trace(rule.pre_taus, dt)
    post = Trace(rule.post_taus, dt)
    arrivals = sorted(n + 1 + delay for n in pre_steps
                      if n + 1 + delay <= last_step)
    w = w0
    if rule.order == "time":
        # post spikes are seen in step p + 1, so p <= last_step - 1
        ev = [(a, 0) for a in arrivals] + [(p, 1) for p in post_steps
                                           if p + 1 <= last_step]
        for t, kind in sorted(ev):
            if kind == 0:
                w = rule.on_pre(w, pre.at(t), post.at(t))
                pre.jump(t)
            else:
                w = rule.on_post(w, pre.at(t), post.at(t))
                post.jump(t)
        return w
    steps = sorted(set(arrivals) | {p + 1 for p in post_steps
                                    if p + 1 <= last_step})
    arr, seen = set(arrivals), {p + 1 for p in post_steps}
    for m in steps:
        if m in arr:
            pre.jump(m)
        if m in seen:
            post.jump(m)
        if m in arr:
            w = rule.on_pre(w, pre.at(m), post.at(m))
        if m in seen:
            w = rule.on_post(w, pre.at(m), post.at(m))
    return w
