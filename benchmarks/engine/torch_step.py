"""Training-step throughput of kdbench zoo architectures in PyTorch (CPU), for `kdbench bench engine`.

A benchmark-only tool: the same architectures as packages/models (CIFAR ResNets and VGGs of the
CRD benchmark, channel counts scaled by --width exactly as the zoo's scaleWidth), one step =
forward in training mode, cross-entropy, backward, SGD with momentum 0.9 and weight decay 5e-4,
on random NHWC-equivalent inputs of batch --batch. Prints one JSON line per model:
{"model", "params", "images_per_second", "threads", "torch"}.

    /usr/bin/python3 benchmarks/engine/torch_step.py --models resnet8,resnet20 --width 1 --threads 2
(Debian: apt-get install -y python3-torch.)
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def scale(c, width):
    return c if width == 1 else max(1, round(c * width))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (self.down(x) if self.down is not None else x))


class ResNet(nn.Module):
    def __init__(self, depth, widths, classes, width):
        super().__init__()
        n = (depth - 2) // 6
        w = [scale(c, width) for c in widths]
        self.conv1 = nn.Conv2d(3, w[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(w[0])
        layers, cin = [], w[0]
        for s in range(3):
            for b in range(n):
                layers.append(BasicBlock(cin, w[s + 1], 2 if (b == 0 and s > 0) else 1))
                cin = w[s + 1]
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layers(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Vgg(nn.Module):
    def __init__(self, cfg, classes, width):
        super().__init__()
        blocks, cin = [], 3
        for widths in cfg:
            layers = []
            for c in widths:
                c = scale(c, width)
                layers += [nn.Conv2d(cin, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
                cin = c
            blocks.append(nn.Sequential(*layers))
        self.blocks = nn.ModuleList(blocks)
        self.classifier = nn.Linear(cin, classes)

    def forward(self, x):
        for i, block in enumerate(self.blocks):
            if 1 <= i <= 3:
                x = F.max_pool2d(x, 2)
            x = block(x)
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


SMALL, X4 = [16, 16, 32, 64], [32, 64, 128, 256]
MODELS = {
    'resnet8': lambda k, w: ResNet(8, SMALL, k, w),
    'resnet14': lambda k, w: ResNet(14, SMALL, k, w),
    'resnet20': lambda k, w: ResNet(20, SMALL, k, w),
    'resnet32': lambda k, w: ResNet(32, SMALL, k, w),
    'resnet56': lambda k, w: ResNet(56, SMALL, k, w),
    'resnet8x4': lambda k, w: ResNet(8, X4, k, w),
    'vgg8': lambda k, w: Vgg([[64], [128], [256], [512], [512]], k, w),
    'vgg11': lambda k, w: Vgg([[64], [128], [256, 256], [512, 512], [512, 512]], k, w),
    'vgg13': lambda k, w: Vgg([[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]], k, w),
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--models', default='resnet8,resnet20')
    p.add_argument('--width', type=float, default=1.0)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--steps', type=int, default=20)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--classes', type=int, default=100)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    for name in a.models.split(','):
        if name not in MODELS:
            print(json.dumps({'model': name, 'error': 'not in the PyTorch benchmark set'}), flush=True)
            continue
        net = MODELS[name](a.classes, a.width)
        net.train()
        opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
        x = torch.randn(a.batch, 3, 32, 32)
        y = torch.randint(0, a.classes, (a.batch,))

        def step():
            opt.zero_grad()
            F.cross_entropy(net(x), y).backward()
            opt.step()

        for _ in range(a.warmup):
            step()
        t0 = time.perf_counter()
        for _ in range(a.steps):
            step()
        seconds = time.perf_counter() - t0
        params = sum(p.numel() for p in net.parameters())
        print(json.dumps({'model': name, 'params': params, 'images_per_second': a.batch * a.steps / seconds,
                          'threads': a.threads, 'torch': torch.__version__}), flush=True)


if __name__ == '__main__':
    main()
