"""A battery of bad inputs through the CLI. For each: a non-zero exit, one line that names the problem, no
traceback, and every file that was there before byte-identical afterwards (and no new file anywhere).

The inputs are grouped in classes (the ids say which): run folders, numbers out of range, schedules, names,
data locations, eval targets and command-line usage. `W` in an argument is the folder of prepared files.
"""
import os

import pytest
from click.testing import CliRunner

from conftest import snapshot
from minidi import backend
from minidi.cli import main
from minidi.data import mnist

SYN = ["--dataset", "synthetic", "--synthetic-samples", "600", "--epochs", "3", "--quiet"]
T = ["train", *SYN, "--lr", "0.01"]
ISO = ["isometry", "--epochs", "1", "--quiet", "--cache", "W/cache"]
RT = ["retrain", "--epochs", "4", "--quiet", "--cache", "W/cache", "--dataset", "synthetic", "--out", "W/new"]
SH = ["shedding", "--epochs", "1", "--quiet", "--cache", "W/cache", "--dataset", "synthetic", "--out", "W/new"]
SHM = [a for a in SH if a not in ("--epochs", "1")]          # the phase map takes no --epochs
PAI = ["pai", "--epochs", "1", "--quiet", "--cache", "W/cache", "--dataset", "synthetic", "--out", "W/new"]

CASES = {
    # options a mode ignores, names that collide, resource limits derived from their cost
    "shedding-map-ignores-grid-options": ([*SH, "--map"], "--epochs belongs to the default grid, not to the phase map"),
    "sweep-shedding-map-fraction": (["sweep", "shedding", "--map", "--fraction", "0.1,0.2", "--dataset", "synthetic",
                                     "--out", "W/new"], "--fraction belongs to the default grid"),
    "sweep-isometry-pr-collide": (["sweep", "isometry", "--pr", "0.8,0.5,0.8000000001", "--out", "W/new"],
                                  "pr=0.8 and pr=0.8000000001 give the same folder 'mlp7-linear-pr0.8-e90'"),
    "shedding-conv4-probe-subset": (["shedding", "--model", "conv4-mnist", "--probe", "7000", "--data-dir", "MNIST",
                                     "--epochs", "1", "--quiet", "--cache", "W/cache", "--out", "W/new"],
                                    "--probe 7000 is larger than the training set the cells use (6400 images)"),
    "cli-curvature-one-probe": ([*ISO, "--curvature", "1", "--out", "W/new"],
                                "--curvature 1: the trace's standard error needs at least 2 Hutchinson probes"),
    "cli-curvature-beyond-memory": ([*PAI, "--curvature", "100000"],
                                    "--curvature 100000 is more than the lens can use on lenet300-100"),
    # environment variables, checked like options ("ENV:NAME=value" sets one for the case)
    "env-scheduler-timeout-nan": ([*RT, "--scheduler", "tcp://127.0.0.1:9", "ENV:MINIDI_SCHEDULER_TIMEOUT=nan"],
                                  "MINIDI_SCHEDULER_TIMEOUT must be finite"),
    "env-scheduler-timeout-negative": ([*RT, "--scheduler", "tcp://127.0.0.1:9", "ENV:MINIDI_SCHEDULER_TIMEOUT=-5"],
                                       "MINIDI_SCHEDULER_TIMEOUT must be in (0, inf)"),
    "env-scheduler-timeout-text": ([*RT, "--scheduler", "tcp://127.0.0.1:9", "ENV:MINIDI_SCHEDULER_TIMEOUT=abc"],
                                   "MINIDI_SCHEDULER_TIMEOUT='abc' is not a number"),
    "env-home-empty": (["retrain", "--epochs", "4", "--quiet", "--dataset", "synthetic", "--out", "W/new", "ENV:HOME=",
                        "ENV:MINIDI_CACHE="], "HOME is empty"),
    "env-device-unknown": ([*T, "--out", "W/new", "ENV:MINIDI_DEVICE=tpu"], "unknown device 'tpu'"),
    # the command line's gaps: overwrites, astronomic counts, blanks
    "cli-plot-exists": (["schedules", "--plot", "W/figure.png"], "W/figure.png exists: nothing is overwritten"),
    "cli-plot-not-png": (["schedules", "--plot", "W/schedules.txt"], "give a name ending in .png"),
    "cli-plot-empty": (["schedules", "--plot", ""], "--plot is empty"),
    "cli-seeds-astronomic": ([*RT, "--seeds", str(10 ** 20)], "seeds must be in [1, 10000]"),
    "cli-isometry-seeds-astronomic": ([*ISO, "--seeds", str(10 ** 20), "--out", "W/new"], "seeds must be in [1, 10000]"),
    "cli-rounds-astronomic": ([*PAI, "--rounds", str(10 ** 12)], "rounds must be in [1, 100000]"),
    "cli-epochs-astronomic": ([*RT, "--epochs", str(10 ** 12)], "epochs must be in [4, 100000]"),
    "cli-train-epochs-astronomic": (["train", "--dataset", "synthetic", "--epochs", str(10 ** 12), "--out", "W/new"],
                                    "100000"),
    "cli-steps-astronomic": ([*SH, "--steps", str(10 ** 9)], "steps must be in [1, 10000]"),
    "cli-out-empty": ([*T, "--out", ""], "--out is empty"),
    "cli-study-out-empty": (["retrain", "--epochs", "4", "--quiet", "--dataset", "synthetic", "--cache", "W/cache",
                             "--out", ""], "--out is empty"),
    "cli-cache-empty": ([*RT[:-2], "--cache", "", "--out", "W/new"], "--cache is empty"),
    "cli-sparsities-blank-entry": ([*PAI, "--sparsities", "0.5,,0.9"], "--sparsities has an empty entry"),
    "cli-curvature-negative": ([*PAI, "--curvature", "-1"], "-1 is not in the range x>=0"),
    "cli-curvature-astronomic": ([*ISO, "--curvature", str(10 ** 9), "--out", "W/new"],
                                 "--curvature 1000000000 is more than the lens can use on mlp7-linear"),
    "sweep-pai-rounds-text": (["sweep", "pai", "--rounds", "2,x", "--dataset", "synthetic", "--out", "W/new"],
                              "--rounds: cannot read '2,x'"),
    "sweep-pai-scope-unknown": (["sweep", "pai", "--scope", "global,row", "--dataset", "synthetic", "--out", "W/new"],
                                "--scope must be 'global' or 'local', got 'row'"),
    "sweep-retrain-ratio-out-of-range": (["sweep", "retrain", "--ratio", "0.5,1.5", "--dataset", "synthetic",
                                          "--out", "W/new"], "ratio must be in (0, 1)"),
    "sweep-retrain-structure-unknown": (["sweep", "retrain", "--structure", "structured,rows", "--dataset",
                                         "synthetic", "--out", "W/new"], "--structure must be structured or unstructured"),
    "sweep-shedding-steps-0": (["sweep", "shedding", "--steps", "0,2", "--dataset", "synthetic", "--out", "W/new"],
                               "steps must be in [1, 10000]"),
    "sweep-shedding-fraction-text": (["sweep", "shedding", "--fraction", "a", "--dataset", "synthetic", "--out",
                                      "W/new"], "--fraction: cannot read 'a'"),
    "sweep-retrain-twice": (["sweep", "retrain", "--ratio", "0.5,0.5", "--out", "W/new"], "--ratio names a value twice"),
    "cli-pai-synthetic-below-the-batch": ([*PAI, "--synthetic-samples", "100"], "100 is not in the range x>=128"),
    # run folders: never write into a place that holds something else, or that cannot be a folder
    "folder-out-is-a-file": ([*T, "--out", "W/afile"], "W/afile is a file, not a folder"),
    "folder-out-under-a-file": ([*T, "--out", "W/afile/run"], "is a file, so no folder can be made there"),
    "folder-out-unwritable": ([*T, "--out", "/proc/minidi-bad-input"], "/proc/minidi-bad-input"),
    "folder-holds-a-run": ([*T, "--out", "W/finished"], "already holds a run"),
    "folder-holds-another-config": ([*T, "--momentum", "0.5", "--out", "W/finished"], "another configuration"),
    "folder-resume-other-config": ([*T, "--seed", "2", "--out", "W/finished", "--resume"], "different configuration"),
    "folder-resume-malformed-config": ([*T, "--out", "W/broken_config", "--resume"], "not a readable JSON file"),
    "folder-resume-config-not-object": ([*T, "--out", "W/list_config", "--resume"], "does not hold a JSON object"),
    "folder-resume-empty": ([*T, "--out", "W/empty", "--resume"], "nothing to resume: W/empty is empty"),
    "folder-resume-absent": ([*T, "--out", "W/absent", "--resume"], "nothing to resume: W/absent does not exist"),
    "folder-foreign-files": ([*T, "--out", "W/orphans"], "no config.json of a minidi run"),
    "folder-resume-no-checkpoint": ([*T, "--out", "W/no_checkpoint", "--resume"], "nothing to resume from"),
    "folder-study-out-is-a-file": ([*ISO, "--out", "W/afile"], "W/afile is a file"),
    "folder-study-cache-is-a-file": (["isometry", "--cache", "W/afile", "--out", "W/new"], "--cache W/afile is a file"),
    "folder-study-over-a-train-run": ([*ISO, "--out", "W/finished"], "another configuration"),
    "folder-study-resume-absent": ([*ISO, "--out", "W/absent", "--resume"], "nothing to resume"),
    # numbers out of range
    "number-momentum-1": ([*T, "--momentum", "1", "--out", "W/new"], "momentum must be in [0, 1), got 1"),
    "number-momentum-negative": ([*T, "--momentum", "-0.1", "--out", "W/new"], "momentum must be in [0, 1)"),
    "number-momentum-nan": ([*T, "--momentum", "nan", "--out", "W/new"], "momentum must be finite"),
    "number-weight-decay-negative": ([*T, "--weight-decay", "-1e-4", "--out", "W/new"], "weight decay must be in [0"),
    "number-weight-decay-inf": ([*T, "--weight-decay", "inf", "--out", "W/new"], "weight decay must be finite"),
    "number-nesterov-without-momentum": ([*T, "--nesterov", "--momentum", "0", "--out", "W/new"], "Nesterov"),
    "number-seed-negative": ([*T, "--seed", "-1", "--out", "W/new"], "Invalid value for '--seed'"),
    "number-seed-text": ([*T, "--seed", "abc", "--out", "W/new"], "Invalid value for '--seed'"),
    "number-epochs-0": ([*T, "--epochs", "0", "--out", "W/new"], "Invalid value for '--epochs'"),
    "number-batch-size-0": ([*T, "--batch-size", "0", "--out", "W/new"], "Invalid value for '--batch-size'"),
    "number-batch-larger-than-data": ([*T, "--batch-size", "100000", "--out", "W/new"], "larger than the training set"),
    "number-synthetic-samples-1": ([*T, "--synthetic-samples", "1", "--out", "W/new"], "--synthetic-samples"),
    "number-study-pr-1": ([*ISO, "--pr", "1", "--out", "W/new"], "Invalid value for '--pr'"),
    "number-study-pr-negative": ([*ISO, "--pr", "-0.1", "--out", "W/new"], "Invalid value for '--pr'"),
    "number-study-prs-empty": ([*ISO, "--prs", "", "--out", "W/new"], "--prs is empty"),
    "number-study-prs-blank-items": ([*ISO, "--prs", " , ", "--out", "W/new"], "--prs is empty"),
    "number-study-prs-text": ([*ISO, "--prs", "0,x", "--out", "W/new"], "--prs: cannot read '0,x'"),
    "number-study-prs-duplicate": ([*ISO, "--prs", "0,0.5,0.5", "--out", "W/new"], "--prs names a value twice"),
    "number-study-prs-above-1": ([*ISO, "--prs", "0,1.2", "--out", "W/new"], "ratio 1.2 is outside [0, 1)"),
    "number-study-probe-0": ([*ISO, "--probe", "0", "--out", "W/new"], "Invalid value for '--probe'"),
    "number-study-probe-too-large": ([*ISO, "--probe", "70000", "--out", "W/new", "--data-dir", "MNIST"],
                                     "--probe 70000 is larger than the training set the cells use (60000 images)"),
    "number-study-seeds-0": ([*ISO, "--seeds", "0", "--out", "W/new"], "Invalid value for '--seeds'"),
    "number-study-epochs-0": (["isometry", "--epochs", "0", "--out", "W/new"], "Invalid value for '--epochs'"),
    # learning-rate schedules
    "schedule-negative-lr": ([*T, "--lr", "-0.1", "--out", "W/new"], "must be a finite number ≥ 0"),
    "schedule-nan-lr": ([*T, "--lr", "nan", "--out", "W/new"], "must be a finite number ≥ 0"),
    "schedule-empty": ([*T, "--lr", "", "--out", "W/new"], "malformed schedule: empty"),
    "schedule-table-no-epoch-0": ([*T, "--lr", "5:0.1", "--out", "W/new"], "must start at epoch 0"),
    "schedule-table-twice": ([*T, "--lr", "0:0.1,0:0.2", "--out", "W/new"], "epoch 0 appears twice"),
    "schedule-table-malformed": ([*T, "--lr", "0:0.1,x", "--out", "W/new"], "expected entries like"),
    "schedule-unknown-option": ([*T, "--lr", "cosine:lr=0.1,foo=1", "--out", "W/new"], "unknown option 'foo'"),
    "schedule-onecycle-max-0": ([*T, "--lr", "onecycle:max=0", "--out", "W/new"], "onecycle max must be in (0"),
    "schedule-onecycle-div-0": ([*T, "--lr", "onecycle:max=0.1,div=0", "--out", "W/new"], "onecycle div must be"),
    "schedule-onecycle-final-div-0": ([*T, "--lr", "onecycle:final_div=0", "--out", "W/new"], "final_div must be"),
    "schedule-onecycle-pct-0": ([*T, "--lr", "onecycle:pct=0", "--out", "W/new"], "onecycle pct must be in (0, 1)"),
    "schedule-onecycle-pct-1": ([*T, "--lr", "onecycle:pct=1", "--out", "W/new"], "onecycle pct must be in (0, 1)"),
    "schedule-onecycle-pct-above-1": ([*T, "--lr", "onecycle:pct=1.5", "--out", "W/new"], "onecycle pct"),
    "schedule-multistep-not-integer": ([*T, "--lr", "multistep:at=1.5", "--out", "W/new"],
                                       "neither a fraction in (0, 1) nor a whole epoch"),
    "schedule-multistep-at-0": ([*T, "--lr", "multistep:at=0", "--out", "W/new"], "must be a fraction in (0, 1)"),
    "schedule-multistep-after-run": ([*T, "--lr", "multistep:at=5", "--out", "W/new"],
                                     "milestone 5 lies outside the run (epochs 1..2)"),
    "schedule-multistep-twice": ([*T, "--lr", "multistep:at=2/2", "--out", "W/new"], "name epoch 2 twice"),
    "schedule-multistep-gamma-0": ([*T, "--lr", "multistep:at=1,gamma=0", "--out", "W/new"], "gamma must be in (0"),
    "schedule-cosine-warmup-as-long-as-run": ([*T, "--lr", "cosine:warmup=3", "--out", "W/new"],
                                              "a warm-up of 3 epochs is not shorter than the run (3 epochs)"),
    "schedule-cosine-warmup-fraction": ([*T, "--lr", "cosine:warmup=1.5", "--out", "W/new"], "whole number"),
    # names
    "name-model": ([*T, "--model", "resnet9000", "--out", "W/new"], "unknown model 'resnet9000'"),
    "name-dataset": ([*T[:1], "--dataset", "imagenet", "--out", "W/new"], "unknown dataset 'imagenet'"),
    "name-device": ([*T, "--device", "tpu", "--out", "W/new"], "unknown device 'tpu'"),
    "name-init": ([*T, "--init", "zeros", "--out", "W/new"], "unknown init 'zeros'"),
    "name-dtype": ([*T, "--dtype", "float16", "--out", "W/new"], "Invalid value for '--dtype'"),
    "name-augment-on-flat-model": ([*T, "--augment", "--out", "W/new"], "--augment needs image input"),
    "name-study-model": ([*ISO, "--model", "resnet32", "--out", "W/new"], "the isometry study runs on"),
    "name-study-cnn-on-mnist": ([*ISO, "--model", "resnet20", "--dataset", "mnist", "--out", "W/new"],
                                "resnet20 takes --dataset cifar10 or cifar100 or synthetic, not 'mnist'"),
    "name-study-mlp-on-cifar": ([*ISO, "--dataset", "cifar10", "--out", "W/new"],
                                "mlp7-linear takes --dataset mnist or synthetic, not 'cifar10'"),
    "number-study-train-samples-too-many": ([*ISO, "--model", "conv4", "--dataset", "synthetic", "--synthetic-samples",
                                             "300", "--train-samples", "500", "--out", "W/new"],
                                            "--train-samples 500 is more than the train set holds (300 images)"),
    "number-study-pretrain-epochs-zero": ([*ISO, "--pretrain-epochs", "0", "--out", "W/new"], "--pretrain-epochs"),
    "name-study-arm-unknown": ([*ISO, "--arms", "lr0.1", "--out", "W/new"], "unknown arm 'lr0.1' in --arms"),
    "name-study-arm-empty": ([*ISO, "--arms", "lr0.01,,orthp", "--out", "W/new"], "--arms has an empty entry"),
    "number-study-scratch-b-cap-below-1": ([*ISO, "--scratch-b-cap", "0.5", "--out", "W/new"],
                                           "Invalid value for '--scratch-b-cap'"),
    "number-study-scratch-b-cap-nan": ([*ISO, "--scratch-b-cap", "nan", "--out", "W/new"], "scratch_b_cap must be finite"),
    "number-study-tpp-epochs-0": ([*ISO, "--tpp-epochs", "0", "--out", "W/new"], "Invalid value for '--tpp-epochs'"),
    # data locations: an explicit --data-dir is the only place searched
    "data-dir-absent": ([*T[:1], "--epochs", "1", "--data-dir", "W/absent", "--out", "W/new"],
                        "data folder W/absent does not exist"),
    "data-dir-empty": ([*T[:1], "--epochs", "1", "--data-dir", "W/empty", "--out", "W/new"],
                       "MNIST not found: searched W/empty (lacks train-images-idx3-ubyte.gz"),
    "data-dir-lacks-a-file": ([*T[:1], "--epochs", "1", "--data-dir", "W/partial_mnist", "--out", "W/new"],
                              "W/partial_mnist (lacks t10k-labels-idx1-ubyte.gz)"),
    "data-dir-corrupt-file": ([*T[:1], "--epochs", "1", "--data-dir", "W/corrupt_mnist", "--out", "W/new"],
                              "is corrupt or truncated (MD5"),
    "data-dir-corrupt-file-remedy": ([*T[:1], "--epochs", "1", "--data-dir", "W/corrupt_mnist", "--out", "W/new"],
                                     "replace it with a good copy of the original file (nothing is downloaded into "
                                     "this folder)"),
    "data-dir-is-a-file": ([*T[:1], "--epochs", "1", "--data-dir", "W/afile", "--out", "W/new"], "is a file"),
    "data-dir-cifar-empty": ([*T[:1], "--model", "resnet20", "--dataset", "cifar10", "--epochs", "1", "--data-dir",
                              "W/empty", "--out", "W/new"], "cifar10 not found"),
    "data-dir-study": ([*ISO, "--data-dir", "W/partial_mnist", "--out", "W/new"], "lacks t10k-labels-idx1-ubyte.gz"),
    # eval targets
    "eval-absent": (["eval", "W/absent"], "does not exist"),
    "eval-no-config-no-model": (["eval", "W/empty"], "pass --model"),
    "eval-malformed-config": (["eval", "W/broken_config"], "not a readable JSON file"),
    "eval-config-not-object": (["eval", "W/list_config"], "does not hold a JSON object"),
    "eval-not-an-npz": (["eval", "W/notnpz.npz", "--model", "mlp7-linear"], "is not a readable .npz file"),
    "eval-text-npz-no-pickle-hint": (["eval", "W/notnpz.npz", "--model", "mlp7-linear"],
                                     "(it holds Python objects (pickled data), which minidi never loads)"),
    "eval-weights-of-another-model": (["eval", "W/finished/model.npz", "--model", "lenet300-100"],
                                      "model.npz: state_dict does not fit the model"),
    "eval-wrong-model": (["eval", "W/orphans/model.npz", "--model", "lenet300-100", "--dataset", "synthetic"],
                         "state_dict"),
    "eval-unfinished-run": (["eval", "W/no_checkpoint_no_model"], "has no model.npz"),
    "eval-bad-dtype": (["eval", "W/finished", "--dtype", "float16"], "Invalid value for '--dtype'"),
    "eval-data-dir-empty": (["eval", "W/finished", "--dataset", "mnist", "--data-dir", "W/empty"], "MNIST not found"),
    # how cells run, and sweeps
    "grid-workers-and-scheduler": ([*ISO, "--workers", "2", "--scheduler", "tcp://127.0.0.1:9", "--out", "W/new"],
                                   "--workers and --scheduler exclude each other"),
    "grid-finetune-seeds-0": ([*ISO, "--finetune-seeds", "0", "--out", "W/new"], "Invalid value for '--finetune-seeds'"),
    "grid-workers-0": ([*ISO, "--workers", "0", "--out", "W/new"], "Invalid value for '--workers'"),
    "grid-worker-threads-0": ([*ISO, "--worker-threads", "0", "--out", "W/new"], "Invalid value for '--worker-threads'"),
    "grid-scheduler-unreachable": ([*ISO, "--probe", "10", "--scheduler", "tcp://127.0.0.1:9", "--out", "W/new",
                                    "--data-dir", "MNIST"], "cannot reach the Dask scheduler tcp://127.0.0.1:9"),
    "sweep-unknown-study": (["sweep", "nosuch", "--out", "W/new"], "No such command 'nosuch'"),
    "sweep-model-empty": (["sweep", "isometry", "--model", " , ", "--out", "W/new"], "--model is empty"),
    "sweep-model-not-in-study": (["sweep", "isometry", "--model", "mlp7-linear,resnet32", "--out", "W/new"],
                                 "the isometry study runs on"),
    "sweep-pr-text": (["sweep", "isometry", "--pr", "0.5,x", "--out", "W/new"], "--pr: cannot read '0.5,x'"),
    "sweep-pr-twice": (["sweep", "isometry", "--pr", "0.5,0.5", "--out", "W/new"], "--pr names a value twice"),
    "sweep-pr-out-of-range": (["sweep", "isometry", "--pr", "0.5,1.5", "--out", "W/new"], "pr must be in [0, 1)"),
    "sweep-epochs-text": (["sweep", "isometry", "--epochs", "2,a", "--out", "W/new"], "--epochs: cannot read"),
    "sweep-epochs-0": (["sweep", "isometry", "--epochs", "0", "--out", "W/new"], "epochs must be in [1, 100000]"),
    "sweep-out-is-a-file": (["sweep", "isometry", "--epochs", "1", "--out", "W/afile"], "W/afile is a file"),
    "sweep-resume-absent": (["sweep", "isometry", "--epochs", "1", "--out", "W/absent", "--resume"],
                            "nothing to resume"),
    # the pruning-at-init study
    "pai-sparsity-1": ([*PAI, "--sparsities", "1"], "sparsity must be in [0, 1), got 1"),
    "pai-sparsity-negative": ([*PAI, "--sparsities", "0.5,-0.1"], "sparsity must be in [0, 1), got -0.1"),
    "pai-sparsities-empty": ([*PAI, "--sparsities", ""], "--sparsities is empty"),
    "pai-sparsities-text": ([*PAI, "--sparsities", "0.9,high"], "--sparsities: cannot read"),
    "pai-sparsity-twice": ([*PAI, "--sparsities", "0.9,0.9"], "--sparsities names a value twice"),
    "pai-unknown-method": ([*PAI, "--methods", "snip,obd"], "unknown pruning method 'obd'"),
    "pai-unknown-variant": ([*PAI, "--variants", "original,flip"], "unknown variant 'flip'"),
    "pai-variants-without-original": ([*PAI, "--variants", "shuffle"], "variants that include 'original'"),
    "pai-model": ([*PAI, "--model", "mlp7-linear"], "the pai study runs on"),
    "pai-dataset-mismatch": ([*PAI, "--dataset", "cifar10"], "lenet300-100 takes --dataset mnist or synthetic"),
    "pai-scope": ([*PAI, "--scope", "row"], "Invalid value for '--scope'"),
    "pai-rounds-0": ([*PAI, "--rounds", "0"], "Invalid value for '--rounds'"),
    "pai-probe-too-large": ([*PAI, "--probe", "5000"], "--probe 5000 is larger than the training set the cells use (2400 images)"),
    "pai-snip-without-data": (["pai", "--methods", "snip", "--epochs", "1", "--data-dir", "W/empty", "--out", "W/new"],
                              "MNIST not found: searched W/empty"),
    "pai-grasp-without-cifar": (["pai", "--model", "resnet20", "--dataset", "cifar10", "--methods", "grasp",
                                 "--data-dir", "W/empty", "--out", "W/new"], "cifar10 not found"),
    "pai-seeds-0": ([*PAI, "--seeds", "0"], "Invalid value for '--seeds'"),
    "pai-synthetic-samples-10": ([*PAI, "--synthetic-samples", "10"], "Invalid value for '--synthetic-samples'"),
    "pai-epochs-0": ([*PAI, "--epochs", "0"], "Invalid value for '--epochs'"),
    "pai-probe-0": ([*PAI, "--probe", "0"], "Invalid value for '--probe'"),
    "pai-cache-is-a-file": ([*PAI[:-4], "--out", "W/new", "--cache", "W/afile"], "--cache W/afile is a file"),
    "pai-out-is-a-file": (["pai", "--out", "W/afile"], "W/afile is a file"),
    "pai-resume-absent": (["pai", "--out", "W/absent", "--resume"], "nothing to resume"),
    "pai-over-another-run": ([*PAI[:-1], "W/finished"], "another configuration"),
    # the retraining study, and the schedules command
    "retrain-unknown-schedule": ([*RT, "--schedules", "ft,sgdr"], "unknown retraining schedule 'sgdr'"),
    "retrain-schedules-without-ft": ([*RT, "--schedules", "clr,slr"], "schedules that include ft"),
    "retrain-budget-above-e": ([*RT, "--budgets", "2,9"], "budget 9 is longer than the dense run (4 epochs)"),
    "retrain-budget-0": ([*RT, "--budgets", "0,2"], "budget must be in [1, 100000], got 0"),
    "retrain-budgets-text": ([*RT, "--budgets", "2,x"], "--budgets: cannot read"),
    "retrain-budgets-twice": ([*RT, "--budgets", "2,2"], "--budgets names a value twice"),
    "retrain-ratio-0": ([*RT, "--ratio", "0"], "Invalid value for '--ratio'"),
    "retrain-ratio-1": ([*RT, "--ratio", "1"], "Invalid value for '--ratio'"),
    "retrain-structure": ([*RT, "--structure", "channels"], "Invalid value for '--structure'"),
    "retrain-epochs-3": ([*RT, "--epochs", "3"], "Invalid value for '--epochs'"),
    "retrain-model": ([*RT, "--model", "mlp7-linear"], "the retrain study runs on"),
    "retrain-dataset-mismatch": ([*RT, "--model", "resnet20", "--dataset", "mnist"], "resnet20 takes --dataset cifar10"),
    "retrain-probe-too-large": ([*RT, "--probe", "5000"], "--probe 5000 is larger than the training set the cells use (2400 images)"),
    "retrain-seeds-0": ([*RT, "--seeds", "0"], "Invalid value for '--seeds'"),
    "retrain-synthetic-samples-10": ([*RT, "--synthetic-samples", "10"], "Invalid value for '--synthetic-samples'"),
    "retrain-schedules-budget-0": (["schedules", "--budget", "0"], "Invalid value for '--budget'"),
    "retrain-cache-is-a-file": ([*RT[:-4], "--out", "W/new", "--cache", "W/afile"], "--cache W/afile is a file"),
    "retrain-schedules-epochs-0": (["schedules", "--epochs", "0"], "Invalid value for '--epochs'"),
    "retrain-schedules-plot-under-a-file": (["schedules", "--plot", "W/afile/s.png"],
                                            "W/afile is a file, not a folder"),
    "retrain-out-is-a-file": (["retrain", "--out", "W/afile"], "W/afile is a file"),
    "retrain-over-another-run": ([*RT[:-1], "W/finished"], "another configuration"),
    "retrain-data-dir-empty": (["retrain", "--epochs", "4", "--data-dir", "W/empty", "--out", "W/new"], "MNIST not found"),
    "retrain-schedules-budget-above-e": (["schedules", "--epochs", "10", "--budget", "20"], "budget 20 is longer"),
    "retrain-schedules-plot-is-a-folder": (["schedules", "--plot", "W/empty"], "is a folder"),
    # the weight-shedding study
    "shedding-fraction-0": ([*SH, "--fraction", "0"], "fraction must be in (0, 0.5], got 0"),
    "shedding-fraction-large": ([*SH, "--fraction", "0.9"], "fraction must be in (0, 0.5], got 0.9"),
    "shedding-sparsity-1": ([*SH, "--sparsities", "0.9,1"], "sparsity must be in (0, 1), got 1"),
    "shedding-sparsity-0": ([*SH, "--sparsities", "0"], "sparsity must be in (0, 1), got 0"),
    "shedding-sparsities-empty": ([*SH, "--sparsities", ","], "--sparsities is empty"),
    "shedding-steps-0": ([*SH, "--steps", "0"], "Invalid value for '--steps'"),
    "shedding-model": ([*SH, "--model", "resnet20"], "the shedding study runs on"),
    "shedding-dataset": ([*SH, "--dataset", "cifar10"], "runs on --dataset mnist or synthetic"),
    "shedding-probe-too-large": ([*SH, "--probe", "5000"], "--probe 5000 is larger than the training set the cells use (2400 images)"),
    "shedding-epochs-0": ([*SH, "--epochs", "0"], "Invalid value for '--epochs'"),
    "shedding-seeds-0": ([*SH, "--seeds", "0"], "Invalid value for '--seeds'"),
    "shedding-fraction-text": ([*SH, "--fraction", "a"], "Invalid value for '--fraction'"),
    "shedding-cache-is-a-file": ([*SH[:-4], "--out", "W/new", "--cache", "W/afile"], "--cache W/afile is a file"),
    "shedding-synthetic-samples-10": ([*SH, "--synthetic-samples", "10"], "Invalid value for '--synthetic-samples'"),
    "shedding-out-is-a-file": (["shedding", "--out", "W/afile"], "W/afile is a file"),
    "shedding-over-another-run": ([*SH[:-1], "W/finished"], "another configuration"),
    "shedding-map-lrs-text": ([*SH, "--map", "--map-lrs", "0.1,x"], "--map-lrs"),
    "shedding-map-lrs-twice": ([*SH, "--map", "--map-lrs", "0.1,0.1"], "--map-lrs names a value twice"),
    "shedding-map-lr-0": ([*SHM, "--map", "--map-lrs", "0"], "map LR must be in (0, 10], got 0"),
    "shedding-map-wd-negative": ([*SHM, "--map", "--map-wds", "-1"], "map weight decay must be in [0, 1], got -1"),
    "shedding-map-fraction-large": ([*SHM, "--map", "--map-fractions", "0.7"], "map fraction must be in (0, 0.5], got 0.7"),
    "shedding-map-epochs-0": ([*SHM, "--map", "--map-epochs", "0"], "--map-epochs must be"),
    "shedding-map-option-without-map": ([*SH, "--map-epochs", "3"], "belong to the phase map: add --map"),
    "shedding-shed-lr-0": ([*SH, "--shed-lr", "0"], "--shed-lr must be in (0, 10], got 0"),
    "shedding-shed-wd-negative": ([*SH, "--shed-wd", "-0.1"], "--shed-wd must be in [0, 1], got -0.1"),
    "shedding-round-epochs-0": ([*SH, "--round-epochs", "0"], "--round-epochs must be"),
    "shedding-data-dir-empty": (["shedding", "--data-dir", "W/empty", "--out", "W/new"], "MNIST not found"),
    # command-line usage
    "usage-unknown-option": ([*T, "--fast", "--out", "W/new"], "No such option '--fast'"),
    "usage-unknown-command": (["trian"], "No such command 'trian'"),
    "usage-missing-argument": (["eval"], "Missing argument 'RUN'"),
    "usage-option-without-value": ([*T, "--out"], "Option '--out' requires an argument"),
}


def _write(path, data=b""):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Prepared files: a finished run, a file, broken configs, foreign files, partial and corrupt MNIST folders."""
    w = str(tmp_path_factory.mktemp("world"))
    run = os.path.join(w, "finished")
    r = CliRunner().invoke(main, [*T, "--out", run])
    assert r.exit_code == 0, r.output
    _write(os.path.join(w, "afile"), b"not a folder\n")
    os.makedirs(os.path.join(w, "empty"))
    os.makedirs(os.path.join(w, "cache"))
    _write(os.path.join(w, "broken_config", "config.json"), b'{"model": "mlp7-linear",')
    _write(os.path.join(w, "broken_config", "checkpoint.npz"), open(os.path.join(run, "checkpoint.npz"), "rb").read())
    _write(os.path.join(w, "list_config", "config.json"), b"[1, 2]\n")
    _write(os.path.join(w, "orphans", "model.npz"), open(os.path.join(run, "model.npz"), "rb").read())
    for name in ("config.json", "results.json", "model.npz", "log.jsonl"):
        _write(os.path.join(w, "no_checkpoint", name), open(os.path.join(run, name), "rb").read())
    _write(os.path.join(w, "no_checkpoint_no_model", "config.json"), open(os.path.join(run, "config.json"), "rb").read())
    _write(os.path.join(w, "notnpz.npz"), b"plain text\n")
    for name in list(mnist.FILES)[:3]:
        _write(os.path.join(w, "partial_mnist", name), b"")
    for name in mnist.FILES:
        _write(os.path.join(w, "corrupt_mnist", name), b"\x1f\x8b garbage")
    os.makedirs(os.path.join(w, "home"))
    _write(os.path.join(w, "figure.png"), b"an existing figure\n")
    return w


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_and_changes_nothing(case, world, monkeypatch, request):
    args, needle = CASES[case]
    env = dict(a[4:].split("=", 1) for a in args if a.startswith("ENV:"))
    args = [a for a in args if not a.startswith("ENV:")]
    if "MNIST" in args:
        folder = request.getfixturevalue("mnist_dir")
        args = [folder if a == "MNIST" else a for a in args]
    if case == "folder-out-unwritable" and os.access("/proc", os.W_OK) and os.path.isdir("/proc/minidi-bad-input"):
        pytest.skip("/proc is writable here")
    monkeypatch.setenv("HOME", os.path.join(world, "home"))             # any stray write lands inside the world
    monkeypatch.setenv("MINIDI_CACHE", os.path.join(world, "cache"))
    monkeypatch.setenv("MPLCONFIGDIR", str(request.getfixturevalue("tmp_path")))   # matplotlib's own font cache
    monkeypatch.setenv("MINIDI_SCHEDULER_TIMEOUT", "1")
    if case == "grid-scheduler-unreachable" or case.startswith("env-scheduler"):
        pytest.importorskip("distributed", reason="the dist extra is not installed")
    monkeypatch.delenv("MINIDI_DEVICE", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(world)
    args = [a.replace("W/", world + "/") if a.startswith("W/") else a for a in args]
    before = snapshot(world)
    r = CliRunner().invoke(main, args)
    assert r.exception is None or isinstance(r.exception, SystemExit), f"{type(r.exception).__name__}: {r.exception}"
    assert r.exit_code not in (0, None), r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1, r.output
    assert lines[0].startswith("Error: ") and "Traceback" not in r.output
    assert needle.replace("W/", world + "/") in lines[0], lines[0]
    assert snapshot(world) == before


def test_gpu_without_a_gpu_is_one_line(world, monkeypatch):
    if backend.gpu_available() and not backend.STANDIN:
        pytest.skip("this machine has a GPU")
    monkeypatch.setattr(backend, "_cupy", None)                 # what a user without CuPy has (no stand-in)
    monkeypatch.chdir(world)
    r = CliRunner().invoke(main, [*T, "--device", "gpu", "--out", os.path.join(world, "new")])
    assert r.exit_code == 1 and len(r.output.strip().splitlines()) == 1 and 'device "gpu"' in r.output
    assert not os.path.exists(os.path.join(world, "new"))


def test_the_battery_covers_every_class():
    classes = {case.split("-")[0] for case in CASES}
    assert classes == {"folder", "number", "schedule", "name", "data", "eval", "grid", "sweep", "pai", "retrain", "shedding",
                       "usage", "env", "cli"}
    assert len(CASES) >= 100


WARNINGS = {
    "table-past-the-run": (["--epochs", "2", "--lr", "0:0.01,30:0.001"], "entries at epoch 30 lie beyond the run's 2"),
    "lr-zero": (["--epochs", "1", "--lr", "0"], "the learning rate is 0 for the whole run"),
    "milestone-rounds-past-the-run": (["--epochs", "2", "--lr", "multistep:lr=0.01,at=0.9"],
                                      "milestone 0.9 of a 2-epoch run is epoch 2, after the run"),
    "cosine-min-above-lr": (["--epochs", "1", "--lr", "cosine:lr=0.001,min=0.01"], "the LR rises over the run"),
    "gamma-above-1": (["--epochs", "2", "--lr", "multistep:lr=0.001,at=1,gamma=2"], "makes the LR grow"),
}


@pytest.mark.parametrize("case", list(WARNINGS))
def test_legal_but_surely_mistaken_values_warn_in_one_line_and_run(case, tmp_path):
    extra, needle = WARNINGS[case]
    r = CliRunner().invoke(main, ["train", *SYN[:4], "--quiet", *extra, "--out", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    assert r.stderr.strip().splitlines() == [r.stderr.strip()] and r.stderr.startswith("Warning: ")
    assert needle in r.stderr
    assert os.path.isfile(tmp_path / "run" / "results.json")
