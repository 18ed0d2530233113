#!/usr/bin/env python3
"""Small numeric helpers for paper B's pipelines (numpy only; the tools do the model work).

  bstats.py grid DIR TAG R "RADII"          the attack grid of margin_grid (lib-B.sh) for radius r:
                                            one TSV row per attack size L (p, share r-robust,
                                            log p(x|z*) from DIR/ll-TAG-L.jsonl), and DIR/R-TAG-rR.tsv, the empirical
                                            margin of every image
  bstats.py certify FILE.jsonl              one TSV row summarising vae-certify jacobian (n, share
                                            r-robust, bound median, mean, sd, p = 1 count, mean
                                            min σ, mean ‖J‖_F)
  bstats.py images STATS.jsonl CERT.jsonl LATENT
                                            per-image TSV rows (encoder stats, Theorem 1 bound)
  bstats.py compare CERT.jsonl R.tsv        Theorem 1's bound against the empirical margin
  bstats.py noisy REF.npy SIGMA SEED OUT.npy  fig7 centre: Gaussian noise, clipped to [0, 1]
  bstats.py loglik LL.jsonl                 mean and sd of log p(x | z*), vae-eval log-likelihood's lines
  bstats.py summary4 DAMAGE.tsv DATA SEED ATTACK-%s.jsonl
                                            fig4: the table's rows for one model
"""
import json, math, os, statistics, sys
import numpy as np



def jsonl(path):
    return [json.loads(l) for l in open(path) if l.strip()]


def items(path):
    return [d for d in jsonl(path) if "index" in d]


def sd(v):
    return statistics.pstdev(v) if len(v) > 1 else 0.0


def grid(d, tag, r, radii):
    radii = [0.0] + [float(x) for x in radii.split()]
    ps, lls = [], []
    for L in radii:
        name = "0" if L == 0 else ("%g" % L)
        rows = items(os.path.join(d, "rrob-%s-r%s-%s.jsonl" % (tag, r, name)))
        ps.append([row["p"] for row in rows])
        lls.append(np.array([row["log_px"] for row in items(os.path.join(d, "ll-%s-%s.jsonl" % (tag, name)))]))
    n = len(ps[0])
    # the empirical margin of each image: where its p(‖Δ(x, δ)‖ ≤ r) first drops to 0.5 or below
    # along the grid of attack radii, linearly interpolated between the two radii around the
    # crossing; 0 when the clean image is not r-robust (Eq. 2); censored (reported as the
    # largest radius) when it never drops
    with open(os.path.join(d, "R-%s-r%s.tsv" % (tag, r)), "w") as f:
        f.write("index\tR_empirical\tcensored\n")
        for i in range(n):
            R, cens = radii[-1], 1
            for k in range(len(radii)):
                if ps[k][i] <= 0.5:
                    if k == 0:
                        R = 0.0
                    else:
                        p0, p1 = ps[k - 1][i], ps[k][i]
                        R = radii[k - 1] + (radii[k] - radii[k - 1]) * (p0 - 0.5) / (p0 - p1)
                    cens = 0
                    break
            f.write("%d\t%.4f\t%d\n" % (i, R, cens))
    for k, L in enumerate(radii):
        p = ps[k]
        print("%s\t%s\t%g\t%d\t%.4f\t%.4f\t%.3f\t%.2f\t%.2f" % (tag, r, L, n, statistics.mean(p), sd(p),
              sum(1 for v in p if v > 0.5) / n, float(np.mean(lls[k])), float(np.std(lls[k]))))


def bound(row):
    """Theorem 1's bound at the Wilson lower end of p, as the margin of the image: 0 where the
    clean image is not r-robust (p ≤ 1/2; vae-certify gives a negative margin there, or null
    for p = 0), since Theorem 1 assumes it is and no perturbation is then allowed."""
    if row["p"] <= 0.5 or row["margin_low"] is None:
        return 0.0
    return max(row["margin_low"], 0.0)


def certify(path):
    rows = items(path)
    ml = [bound(r) for r in rows]
    robust = [r for r in rows if r["p"] > 0.5]
    inf = sum(1 for r in rows if r["margin"] is None and r["p"] == 1)
    print("%d\t%.4f\t%.4f\t%.4f\t%.4f\t%d\t%.4f\t%.4f" % (len(rows), len(robust) / len(rows),
          statistics.median(ml), statistics.mean(ml), sd(ml), inf,
          statistics.mean(r["min_sigma"] for r in rows), statistics.mean(r["jacobian_frobenius"] for r in rows)))


def images(stats_path, cert_path, latent):
    """per image: index, min σ, ‖σ‖₂, mean σ², ‖J‖_F, p, Theorem 1's bound (see bound())."""
    latent = int(latent)
    stats = {r["index"]: r for r in items(stats_path)}
    cert = {r["index"]: r for r in items(cert_path)}
    for i in sorted(stats):
        s, c = stats[i], cert[i]
        print("%d\t%.5f\t%.5f\t%.5f\t%.5f\t%.4f\t%.5f" % (i, s["min_sigma"], s["sigma_norm"],
              s["sigma_norm"] ** 2 / latent, s["jacobian_frobenius"], c["p"], bound(c)))


def compare(cert_path, r_path):
    """Theorem 1's bound (see bound()) against the attack's empirical margin, image by image on
    the same images: the share with bound <= empirical, and the mean ratio bound / empirical,
    over the images whose empirical margin is not censored (NaN when every one is)."""
    cert = {r["index"]: r for r in items(cert_path)}
    below, ratios, n = 0, [], 0
    lines = open(r_path).read().split("\n")[1:]
    for i, R, cens in [l.split("\t") for l in lines if l]:
        if cens == "1":
            continue
        n += 1
        b = bound(cert[int(i)])
        below += b <= float(R)
        if float(R) > 0:
            ratios.append(b / float(R))
    print("%s\t%s" % (("%.3f" % (below / n)) if n else "NaN", ("%.3f" % statistics.mean(ratios)) if ratios else "NaN"))


MODES = ["none", "mu", "sigma", "both"]


def summary4(damage_tsv, data, seed, attack_jsonl):
    """fig4: one row per mode: the damage's median, mean and sd over images, and for the attacks
    the mean of vae-attack's own objective (its best iterate's sampled estimate) and of ‖δ‖₂."""
    rows = [l.split("\t") for l in open(damage_tsv).read().split("\n")[1:] if l]
    for mode in MODES:
        v = [float(r[4]) for r in rows if r[0] == data and r[1] == seed and r[2] == mode]
        obj = nrm = "NaN"
        if mode != "none":
            a = items(attack_jsonl % mode)
            obj = "%.4f" % statistics.mean(x["objective"] for x in a)
            nrm = "%.4f" % statistics.mean(x["norm"] for x in a)
        print("%s\t%s\t%s\t%d\t%.4f\t%.4f\t%.4f\t%s\t%s" % (data, seed, mode, len(v), statistics.median(v),
              statistics.mean(v), sd(v), obj, nrm))


def noisy(ref, sigma, seed, out):
    """fig7 centre: x* = clip(x + N(0, σ_ε²), 0, 1) (the tools read images in [0, 1] only)."""
    x = np.load(ref)
    rng = np.random.default_rng(int(seed))
    np.save(out, np.clip(x + float(sigma) * rng.standard_normal(x.shape), 0, 1).astype(np.float32))


def loglik(path):
    """mean and sd over images of log p(x | z*), vae-eval log-likelihood's lines in PATH."""
    ll = np.array([row["log_px"] for row in items(path)])
    print("%.2f\t%.2f" % (float(ll.mean()), float(ll.std())))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"grid": lambda: grid(*args),
     "certify": lambda: certify(args[0]),
     "images": lambda: images(*args),
     "compare": lambda: compare(*args),
     "summary4": lambda: summary4(*args),
     "noisy": lambda: noisy(*args),
     "loglik": lambda: loglik(args[0])}[cmd]()
