"""PyTorch reference for RobustVAE's training benchmarks and model quality (not run by CI).

Trains the same models as `vae-train --arch mlp|conv` on Fashion-MNIST with the same
objective (Bernoulli likelihood on grey levels, one reparameterised sample, Adam, batch 128,
10% validation hold-out) and prints one JSON line: training images/s and the test ELBO
(one sample per image, as vae-train reports it) and reconstruction MSE from z = mu.

With --attack it instead times paper D's attack setting as `robustvae-bench --suite attack`
runs it: the `conv` model (freshly initialised, weights frozen), the first 50 Fashion-MNIST
test images x 10 restarts as one batch of 500, 50 PGD steps of the symmetric-KL attack at
L-inf radius 0.1 (signed gradient times 0.01, uniform start, clamp to the ball and [0, 1],
best iterate per row kept), three runs, one JSON line each.

With --hmc it times paper D's defence as `robustvae-bench --suite hmc` runs it: 500 chains x 100
HMC transitions x 20 leapfrog steps on the `mlp` model (freshly initialised, decoder frozen,
gradients w.r.t. z only), Bernoulli likelihood on the first 500 Fashion-MNIST test images,
chains started at the encoder means, no burn-in, paper D's step-size rule (Eq. 67, one step
size for the batch), the energy and gradient at the current state kept between transitions
as RobustVAE does; three runs, one JSON line each.

    pip install torch   # from PyPI
    python3 bench/pytorch_reference.py --arch mlp --epochs 10 --threads 2
    python3 bench/pytorch_reference.py --attack --threads 2
    python3 bench/pytorch_reference.py --hmc --threads 2
"""
import argparse, gzip, json, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

def idx(path):
    d = gzip.open(path).read()
    nd = d[3]
    shape = [int.from_bytes(d[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(d, np.uint8, offset=4 + 4 * nd).reshape(shape)

def mlp(widths, final=None):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    if final:
        layers.append(final)
    return nn.Sequential(*layers)

class MLPVAE(nn.Module):
    """Paper A: three separate 784-512-512-10 networks (mu; sigma with a final sigmoid; decoder)."""
    def __init__(self, latent=10):
        super().__init__()
        self.mu = mlp([784, 512, 512, latent])
        self.sigma = mlp([784, 512, 512, latent], nn.Sigmoid())
        self.dec = mlp([latent, 512, 512, 784])
    def encode(self, x):
        x = x.flatten(1)
        return self.mu(x), self.sigma(x)
    def decode(self, z):
        return self.dec(z).view(-1, 1, 28, 28)

class ConvVAE(nn.Module):
    """Paper D Table 6 (latent 64)."""
    def __init__(self, latent=64, c=1):
        super().__init__()
        self.trunk = nn.Sequential(nn.Conv2d(c, 32, 3, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(),
                                   nn.Conv2d(64, 96, 3, 2, 1), nn.ReLU(), nn.Conv2d(96, 128, 3, 2, 1), nn.ReLU())
        self.mu = nn.Conv2d(128, latent, 3, 2, 1)
        self.logvar = nn.Conv2d(128, latent, 3, 2, 1)
        self.dec = nn.Sequential(nn.ConvTranspose2d(latent, 128, 3, 1, 0, dilation=2), nn.ReLU(),
                                 nn.ConvTranspose2d(128, 96, 3, 1, 0), nn.ReLU(), nn.ConvTranspose2d(96, 64, 3, 1, 1), nn.ReLU(),
                                 nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(32, c, 4, 2, 1))
    def encode(self, x):
        h = self.trunk(x)
        return self.mu(h).flatten(1), (0.5 * self.logvar(h)).exp().flatten(1)
    def decode(self, z):
        return self.dec(z.view(z.shape[0], -1, 1, 1))

def elbo(model, x):
    mu, sigma = model.encode(x)
    z = mu + sigma * torch.randn_like(mu)
    logits = model.decode(z)
    logpx = -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    kl = 0.5 * (mu ** 2 + sigma ** 2 - 1 - 2 * sigma.log()).sum(1)
    return logpx - kl

def skl(mu1, s1, mu2, s2):
    """Symmetric KL between diagonal Gaussians per row, (KL(1||2) + KL(2||1)) / 2."""
    v1, v2 = s1 ** 2, s2 ** 2
    d2 = (mu1 - mu2) ** 2
    return 0.25 * ((v1 + d2) / v2 + (v2 + d2) / v1 - 2).sum(1)

def attack(model, refs, restarts=10, steps=50, radius=0.1, step=0.01):
    """Batched PGD on the symmetric KL, every restart of every reference in one batch."""
    for p in model.parameters():
        p.requires_grad_(False)
    x0 = refs.repeat_interleave(restarts, 0)
    with torch.no_grad():
        mu0, s0 = model.encode(x0)
    delta = (torch.rand_like(x0) * 2 - 1) * radius
    delta = torch.clamp(x0 + delta, 0, 1) - x0
    best, best_value = delta.clone(), torch.full((len(x0),), -float("inf"))
    for t in range(steps + 1):
        x = (x0 + delta).requires_grad_(True)
        mu, s = model.encode(x)
        value = skl(mu, s, mu0, s0)
        (grad,) = torch.autograd.grad(value.sum(), x)
        with torch.no_grad():
            better = value > best_value
            best_value = torch.where(better, value, best_value)
            best[better] = delta[better]
            if t == steps:
                break
            delta = torch.clamp(delta + step * grad.sign(), -radius, radius)
            delta = torch.clamp(x0 + delta, 0, 1) - x0
    return x0 + best, best_value

def hmc(model, x, z0, steps=100, leapfrog=20, eta=0.05, target=0.9):
    """Batched HMC on -log p(x|z) - log N(z; 0, I), one chain per row (paper D's transition)."""
    for p in model.parameters():
        p.requires_grad_(False)
    def energy_grad(z):
        z = z.detach().requires_grad_(True)
        logits = model.decode(z)
        u = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1) + 0.5 * (z ** 2).sum(1)
        (g,) = torch.autograd.grad(u.sum(), z)
        return u.detach(), g
    z = z0.clone()
    u, g = energy_grad(z)
    accepted = torch.zeros(len(z))
    for t in range(steps):
        p0 = torch.randn_like(z)
        p = p0 - 0.5 * eta * g
        ze = z.clone()
        for i in range(leapfrog):
            ze = ze + eta * p
            ue, ge = energy_grad(ze)
            p = p - (eta if i < leapfrog - 1 else 0.5 * eta) * ge
        ratio = u - ue + 0.5 * ((p0 ** 2).sum(1) - (p ** 2).sum(1))
        acc = torch.log(torch.rand(len(z))) < ratio
        z[acc], u[acc], g[acc] = ze[acc], ue[acc], ge[acc]
        accepted += acc.float()
        eta = eta + 0.01 * ((acc.float().mean().item() - target) / target) * eta
    return z, accepted / steps

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="mlp", choices=["mlp", "conv"])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--attack", action="store_true", help="time paper D's skl attack setting instead of training")
    ap.add_argument("--hmc", action="store_true", help="time paper D's HMC defence setting instead of training")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    if a.hmc:
        x = torch.tensor(idx(f"{a.data}/t10k-images-idx3-ubyte.gz")[:500], dtype=torch.float32).div(255).unsqueeze(1)
        model = MLPVAE()
        with torch.no_grad():
            z0 = model.encode(x)[0]
        for _ in range(3):
            t0 = time.perf_counter()
            _, acc = hmc(model, x, z0)
            t = time.perf_counter() - t0
            print(json.dumps({"bench": "hmc_mlp_500x100x20", "seconds": t, "seconds_per_point": t / 500,
                              "mean_acceptance": acc.mean().item(), "threads": a.threads, "torch": torch.__version__}))
        return
    if a.attack:
        refs = torch.tensor(idx(f"{a.data}/t10k-images-idx3-ubyte.gz")[:50], dtype=torch.float32).div(255).unsqueeze(1)
        model = ConvVAE()
        for _ in range(3):
            t0 = time.perf_counter()
            _, v = attack(model, refs)
            print(json.dumps({"bench": "attack_skl_conv_50x10_50steps", "seconds": time.perf_counter() - t0,
                              "mean_best_objective": v.mean().item(), "threads": a.threads, "torch": torch.__version__}))
        return
    train = torch.tensor(idx(f"{a.data}/train-images-idx3-ubyte.gz"), dtype=torch.float32).div(255).unsqueeze(1)
    test = torch.tensor(idx(f"{a.data}/t10k-images-idx3-ubyte.gz"), dtype=torch.float32).div(255).unsqueeze(1)
    perm = torch.randperm(len(train))
    n_val = len(train) // 10
    train = train[perm[n_val:]]
    model = MLPVAE() if a.arch == "mlp" else ConvVAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    images, seconds = 0, 0.0
    for epoch in range(a.epochs):
        order = torch.randperm(len(train))
        t0 = time.perf_counter()
        for i in range(0, len(train), 128):
            x = train[order[i:i + 128]]
            loss = -elbo(model, x).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            images += len(x)
        seconds += time.perf_counter() - t0
    with torch.no_grad():
        e = torch.cat([elbo(model, test[i:i + 500]) for i in range(0, len(test), 500)]).mean().item()
        mse = torch.cat([((torch.sigmoid(model.decode(model.encode(test[i:i + 500])[0])) - test[i:i + 500]) ** 2).flatten(1)
                         for i in range(0, len(test), 500)]).mean().item()
    print(json.dumps({"arch": a.arch, "epochs": a.epochs, "threads": a.threads, "images_per_s": images / seconds,
                      "test_elbo": e, "test_mse": mse, "torch": torch.__version__}))

if __name__ == "__main__":
    main()
