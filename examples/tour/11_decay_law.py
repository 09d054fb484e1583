"""Step 11: the decay law — when can weight decay make weights vanish ("shedding")?

A weight whose loss gradient is 0 (its unit is dead or cut off) only feels weight decay: under SGD with momentum
μ, w_{t+1} = w_t − η(λ w_t + μ v_t). Its decay rate ρ ≈ 1 − ηλ/(1 − μ) per step tells how many epochs it needs to
fall below 1 % of its size — hundreds at a small LR, a handful at a large one. Then watch a real net shed.

Uses: minidi.theory.decay; minidi.measure.shedding.shed_fraction. Read: docs/weight_shedding.md. Needs MNIST.

    python examples/tour/11_decay_law.py
"""
import click

from minidi import optim, prune
from minidi.measure import shedding
from minidi.schedules import Constant
from minidi.theory import decay
from minidi.train import fit
from tourkit import figure, mnist, step, trained


@step("11_decay_law.png")
@click.option("--epochs", default=3, show_default=True, type=click.IntRange(min=1))
def main(device, data_dir, out, epochs, wd=5e-3):
    """Epochs for a zero-gradient weight to fall to 1 %, and the shed fraction σ of a randomly pruned net."""
    steps = 20000 // 128
    for lr in (0.001, 0.01, 0.1):
        e = decay.epochs_to_fall(1e-2, lr, 0.9, wd, steps)
        click.echo(f"LR {lr:<5} weight decay {wd}: a zero-gradient weight falls to 1 % in {e:.1f} epochs")
    data = mnist("lenet300-100", device, data_dir, train=20000)
    model = trained("lenet300-100", data, device, 2, lr=0.05)
    prune.random_masks(model, 0.2, seed=0)
    tau = shedding.thresholds(model)["kappa=0.01"]
    sigma = [shedding.shed_fraction(model, tau)["overall"]]
    for _ in range(epochs):
        fit(model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=wd), Constant(0.1), data, 1,
            batch_size=128)
        sigma.append(shedding.shed_fraction(model, tau)["overall"])
    click.echo("shed fraction σ (|θ| < 1 % of the median) per epoch at LR 0.1: " + " → ".join(f"{s:.3f}" for s in sigma))
    figure(out, lambda ax: (ax.plot(range(len(sigma)), sigma, "o-"),
                            ax.set(xlabel="epoch after a random prune of 20 %", ylabel="shed fraction σ")),
           f"LeNet-300-100 at LR 0.1, weight decay {wd}")


if __name__ == "__main__":
    main()
