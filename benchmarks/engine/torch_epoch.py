"""Whole training epochs in PyTorch (CPU), for `kdbench bench train`: the same epoch kdbench's trainer runs.

A benchmark-only tool. Reads the same CIFAR binary files (cifar-10-batches-bin/data_batch_*.bin and
test_batch.bin, or cifar-100-binary/train.bin and test.bin), takes the first --train-per-class records
of each class (default all), and per epoch: shuffles, builds batches of --batch with kdbench's
augmentation (4-pixel zero padding, random 32x32 crop, horizontal flip with probability 0.5,
per-channel normalisation), trains the student (architectures from torch_step.py; SGD lr 0.05,
momentum 0.9, weight decay 5e-4) with cross-entropy (vanilla) or Hinton's KD as kdbench's defaults
(0.1 CE + 0.9 T^2 KL, T = 4; the teacher in eval mode without gradients, random weights), then
evaluates on the test file in batches of 200. Augmentation runs in the main process, as kdbench's.

Prints one JSON line: images_per_second (training images over whole epochs, evaluation included),
seconds {total, data, step, teacher, eval}, peak_rss_mb, rss_after_epoch_mb.

    /usr/bin/python3 benchmarks/engine/torch_epoch.py --student resnet8 --teacher resnet20 --method kd --data-dir ../shared/datasets
"""
import argparse
import glob
import json
import os
import resource
import time

import numpy as np
import torch
import torch.nn.functional as F

from torch_step import build

MEAN = {'cifar10': (0.4914, 0.4822, 0.4465), 'cifar100': (0.5071, 0.4867, 0.4408)}
STD = {'cifar10': (0.247, 0.2435, 0.2616), 'cifar100': (0.2675, 0.2565, 0.2761)}


def read_records(files, label_bytes):
    """Images [n, 3, 32, 32] uint8 and labels [n] of CIFAR binary files (the last label byte is the class)."""
    raw = np.concatenate([np.fromfile(f, dtype=np.uint8) for f in files])
    rows = raw.reshape(-1, label_bytes + 3072)
    return torch.from_numpy(rows[:, label_bytes:].reshape(-1, 3, 32, 32).copy()), torch.from_numpy(rows[:, label_bytes - 1].astype(np.int64))


def load(dataset, data_dir):
    if dataset == 'cifar10':
        folder = os.path.join(data_dir, 'cifar-10-batches-bin')
        train = sorted(glob.glob(os.path.join(folder, 'data_batch_*.bin')))
        test = [os.path.join(folder, 'test_batch.bin')]
        label_bytes = 1
    else:
        folder = os.path.join(data_dir, 'cifar-100-binary')
        train, test, label_bytes = [os.path.join(folder, 'train.bin')], [os.path.join(folder, 'test.bin')], 2
    missing = [f for f in train + test if not os.path.exists(f)]
    if not train or missing:
        raise SystemExit(f'torch_epoch.py: missing CIFAR files under {folder}: {missing or "no training batches"}')
    return read_records(train, label_bytes), read_records(test, label_bytes)


def first_per_class(images, labels, per_class):
    if per_class is None:
        return images, labels
    keep = torch.cat([torch.nonzero(labels == c).flatten()[:per_class] for c in labels.unique()]).sort().values
    return images[keep], labels[keep]


def normalise(x, dataset):
    mean = torch.tensor(MEAN[dataset]).view(1, 3, 1, 1)
    std = torch.tensor(STD[dataset]).view(1, 3, 1, 1)
    return (x.float() / 255 - mean) / std


def augmented_batch(images, rows, dataset, gen):
    """Zero-pad 4, random 32x32 crop, random horizontal flip, normalise (kdbench's data/augment.ts)."""
    x = F.pad(images[rows], (4, 4, 4, 4))
    offsets = torch.randint(0, 9, (len(rows), 2), generator=gen)
    flips = torch.rand(len(rows), generator=gen) < 0.5
    out = torch.empty(len(rows), 3, 32, 32, dtype=torch.uint8)
    for i in range(len(rows)):
        dy, dx = int(offsets[i, 0]), int(offsets[i, 1])
        crop = x[i, :, dy:dy + 32, dx:dx + 32]
        out[i] = crop.flip(2) if flips[i] else crop
    return normalise(out, dataset)


def kd_loss(student_logits, teacher_logits, labels, t=4.0, gamma=0.1, alpha=0.9):
    kl = F.kl_div(F.log_softmax(student_logits / t, 1), F.log_softmax(teacher_logits / t, 1), reduction='batchmean', log_target=True)
    return gamma * F.cross_entropy(student_logits, labels) + alpha * t * t * kl


def rss_mb():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2 ** 20


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--student', default='resnet8')
    p.add_argument('--teacher', default='resnet20')
    p.add_argument('--method', choices=['vanilla', 'kd'], default='vanilla')
    p.add_argument('--dataset', choices=['cifar10', 'cifar100'], default='cifar10')
    p.add_argument('--data-dir', default=os.environ.get('KDBENCH_DATA_DIR', '../shared/datasets'))
    p.add_argument('--train-per-class', type=int)
    p.add_argument('--eval-per-class', type=int)
    p.add_argument('--width', type=float, default=1.0)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--epochs', type=int, default=1)
    p.add_argument('--threads', type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    (train_x, train_y), (test_x, test_y) = load(a.dataset, a.data_dir)
    train_x, train_y = first_per_class(train_x, train_y, a.train_per_class)
    test_x, test_y = first_per_class(test_x, test_y, a.eval_per_class)
    classes = 10 if a.dataset == 'cifar10' else 100
    student = build(a.student, classes, a.width)
    teacher = build(a.teacher, classes, a.width) if a.method == 'kd' else None
    if student is None or (a.method == 'kd' and teacher is None):
        raise SystemExit(f'torch_epoch.py: {a.student} or {a.teacher} is not in torch_step.py')
    if teacher is not None:
        teacher.eval()
    opt = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    seconds = {'data': 0.0, 'step': 0.0, 'teacher': 0.0, 'eval': 0.0}
    rss_after = []
    start = time.perf_counter()
    for _ in range(a.epochs):
        student.train()
        order = torch.randperm(len(train_y), generator=gen)
        for b in range(0, len(order), a.batch):
            t0 = time.perf_counter()
            rows = order[b:b + a.batch]
            x, y = augmented_batch(train_x, rows, a.dataset, gen), train_y[rows]
            t1 = time.perf_counter()
            if teacher is not None:
                with torch.no_grad():
                    teacher_logits = teacher(x)
            t2 = time.perf_counter()
            opt.zero_grad()
            logits = student(x)
            loss = kd_loss(logits, teacher_logits, y) if teacher is not None else F.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            t3 = time.perf_counter()
            seconds['data'] += t1 - t0
            seconds['teacher'] += t2 - t1
            seconds['step'] += t3 - t2
        t0 = time.perf_counter()
        student.eval()
        correct = 0
        with torch.no_grad():
            for b in range(0, len(test_y), 200):
                correct += int((student(normalise(test_x[b:b + 200], a.dataset)).argmax(1) == test_y[b:b + 200]).sum())
        seconds['eval'] += time.perf_counter() - t0
        rss_after.append(rss_mb())
    total = time.perf_counter() - start
    print(json.dumps({
        'side': 'pytorch', 'student': a.student, 'teacher': a.teacher if teacher is not None else '', 'method': a.method,
        'epochs': a.epochs, 'trainImages': len(train_y), 'evalImages': len(test_y),
        'seconds': {'total': total, **seconds}, 'imagesPerSecond': len(train_y) * a.epochs / total,
        'peakRssMb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'rssAfterEpochMb': rss_after,
        'kernels': f'PyTorch {torch.__version__}, {a.threads} threads', 'top1': 100 * correct / len(test_y),
    }), flush=True)


if __name__ == '__main__':
    main()
