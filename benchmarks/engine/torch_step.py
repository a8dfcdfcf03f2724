"""Training-step throughput of kdbench zoo architectures in PyTorch (CPU), for `kdbench bench engine`.

A benchmark-only tool: every architecture of packages/models (CIFAR ResNets, WRNs, VGGs,
MobileNetV2, ShuffleNetV1/V2 of the CRD benchmark), with channel counts scaled by --width exactly
as the zoo scales them (models/base.ts scaleWidth and each net's own rounding), so parameter counts
are equal (`kdbench bench engine` prints both). One step = forward in training mode, cross-entropy,
backward, SGD with momentum 0.9 and weight decay 5e-4, on a random batch of --batch. Prints one
JSON line per model: {"model", "params", "images_per_second", "threads", "torch"}.

    /usr/bin/python3 benchmarks/engine/torch_step.py --models resnet8,resnet20 --width 1 --threads 2
(Debian: apt-get install -y python3-torch.) `--list` prints the architecture names.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def js_round(v):
    """JavaScript's Math.round (halves go up), not Python's round (halves go to even)."""
    return math.floor(v + 0.5)


def scale(c, width, multiple=1):
    """models/base.ts scaleWidth."""
    if width == 1:
        return c
    return max(multiple, js_round(c * width / multiple) * multiple)


def conv(cin, cout, k, stride=1, groups=1, bias=False):
    return nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=bias)


# --- CIFAR ResNets (models/resnet.ts) ---

class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1, self.bn1 = conv(cin, cout, 3, stride), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = conv(cout, cout, 3), nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(conv(cin, cout, 1, stride), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (self.down(x) if self.down is not None else x))


class ResNet(nn.Module):
    def __init__(self, depth, widths, classes, width):
        super().__init__()
        n = (depth - 2) // 6
        w = [scale(c, width) for c in widths]
        self.conv1, self.bn1 = conv(3, w[0], 3), nn.BatchNorm2d(w[0])
        layers, cin = [], w[0]
        for s in range(3):
            for b in range(n):
                layers.append(BasicBlock(cin, w[s + 1], 2 if (b == 0 and s > 0) else 1))
                cin = w[s + 1]
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# --- Wide ResNets, pre-activation (models/wrn.ts) ---

class PreActBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), conv(cin, cout, 3, stride)
        self.bn2, self.conv2 = nn.BatchNorm2d(cout), conv(cout, cout, 3)
        self.shortcut = None if cin == cout else conv(cin, cout, 1, stride)

    def forward(self, x):
        act = F.relu(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(self.conv1(act))))
        return (x if self.shortcut is None else self.shortcut(act)) + out


class Wrn(nn.Module):
    def __init__(self, depth, widen, classes, width):
        super().__init__()
        n = (depth - 4) // 6
        ch = [scale(c, width) for c in [16, 16 * widen, 32 * widen, 64 * widen]]
        self.conv1 = conv(3, ch[0], 3)
        blocks = []
        for s in range(3):
            for b in range(n):
                blocks.append(PreActBlock(ch[s] if b == 0 else ch[s + 1], ch[s + 1], 2 if (b == 0 and s > 0) else 1))
        self.blocks = nn.Sequential(*blocks)
        self.bn1 = nn.BatchNorm2d(ch[3])
        self.fc = nn.Linear(ch[3], classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.blocks(self.conv1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# --- VGG with batch norm (models/vgg.ts) ---

class Vgg(nn.Module):
    def __init__(self, cfg, classes, width):
        super().__init__()
        blocks, cin = [], 3
        for widths in cfg:
            layers = []
            for c in widths:
                c = scale(c, width)
                layers += [conv(cin, c, 3, bias=True), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
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


# --- MobileNetV2, expansion 6, width multiplier 0.5 (models/mobilenetv2.ts) ---

class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand):
        super().__init__()
        hidden = inp * expand
        self.body = nn.Sequential(
            conv(inp, hidden, 1), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True),
            conv(hidden, hidden, 3, stride, groups=hidden), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True),
            conv(hidden, oup, 1), nn.BatchNorm2d(oup))
        self.res = stride == 1 and inp == oup

    def forward(self, x):
        return x + self.body(x) if self.res else self.body(x)


class MobileNetV2(nn.Module):
    def __init__(self, classes, width, expand=6, mult=0.5):
        super().__init__()
        w = lambda c: scale(math.trunc(c * mult), width)
        cin = w(32)
        layers = [conv(3, cin, 3, 2), nn.BatchNorm2d(cin), nn.ReLU(inplace=True)]
        for t, c, n, s in [(1, 16, 1, 1), (expand, 24, 2, 1), (expand, 32, 3, 2), (expand, 64, 4, 2),
                           (expand, 96, 3, 1), (expand, 160, 3, 2), (expand, 320, 1, 1)]:
            for i in range(n):
                layers.append(InvertedResidual(cin, w(c), s if i == 0 else 1, t))
                cin = w(c)
        last = scale(math.trunc(1280 * mult) if mult > 1 else 1280, width)
        layers += [conv(cin, last, 1), nn.BatchNorm2d(last), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(last, classes)

    def forward(self, x):
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


# --- ShuffleNets (models/shufflenetv1.ts, shufflenetv2.ts) ---

def shuffle(x, groups):
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).permute(0, 2, 1, 3, 4).reshape(n, c, h, w)


class ShuffleV1Block(nn.Module):
    def __init__(self, cin, cout, stride, groups, first_groups):
        super().__init__()
        mid = cout // 4
        self.conv1, self.bn1 = conv(cin, mid, 1, groups=first_groups), nn.BatchNorm2d(mid)
        self.conv2, self.bn2 = conv(mid, mid, 3, stride, groups=mid), nn.BatchNorm2d(mid)
        self.conv3, self.bn3 = conv(mid, cout, 1, groups=groups), nn.BatchNorm2d(cout)
        self.stride, self.first_groups = stride, first_groups

    def forward(self, x):
        out = shuffle(F.relu(self.bn1(self.conv1(x))), self.first_groups) if self.first_groups > 1 else F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.stride == 2:
            return F.relu(torch.cat([out, F.avg_pool2d(x, 3, 2, 1)], 1))
        return F.relu(out + x)


class ShuffleNetV1(nn.Module):
    def __init__(self, classes, width, planes=(240, 480, 960), blocks=(4, 8, 4), groups=3):
        super().__init__()
        unit = 4 * groups
        stem = scale(24, width, unit)
        self.conv1, self.bn1 = conv(3, stem, 1), nn.BatchNorm2d(stem)
        layers, cin, prev = [], stem, stem
        for s, (c, n) in enumerate(zip(planes, blocks)):
            prev = max(scale(c, width, unit), prev + unit)
            for i in range(n):
                first = i == 0
                layers.append(ShuffleV1Block(cin, prev - cin if first else prev, 2 if first else 1, groups,
                                             1 if (s == 0 and first) else groups))
                cin = prev
        self.layers = nn.Sequential(*layers)
        self.linear = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.linear(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class ShuffleV2Basic(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.split = c // 2
        h = self.split
        self.conv1, self.bn1 = conv(h, h, 1), nn.BatchNorm2d(h)
        self.conv2, self.bn2 = conv(h, h, 3, groups=h), nn.BatchNorm2d(h)
        self.conv3, self.bn3 = conv(h, h, 1), nn.BatchNorm2d(h)

    def forward(self, x):
        x1, x2 = x[:, :self.split], x[:, self.split:]
        out = F.relu(self.bn1(self.conv1(x2)))
        out = self.bn2(self.conv2(out))
        out = F.relu(self.bn3(self.conv3(out)))
        return shuffle(torch.cat([x1, out], 1), 2)


class ShuffleV2Down(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        mid = cout // 2
        self.conv1, self.bn1 = conv(cin, cin, 3, 2, groups=cin), nn.BatchNorm2d(cin)
        self.conv2, self.bn2 = conv(cin, mid, 1), nn.BatchNorm2d(mid)
        self.conv3, self.bn3 = conv(cin, mid, 1), nn.BatchNorm2d(mid)
        self.conv4, self.bn4 = conv(mid, mid, 3, 2, groups=mid), nn.BatchNorm2d(mid)
        self.conv5, self.bn5 = conv(mid, mid, 1), nn.BatchNorm2d(mid)

    def forward(self, x):
        left = F.relu(self.bn2(self.conv2(self.bn1(self.conv1(x)))))
        right = F.relu(self.bn3(self.conv3(x)))
        right = F.relu(self.bn5(self.conv5(self.bn4(self.conv4(right)))))
        return shuffle(torch.cat([left, right], 1), 2)


class ShuffleNetV2(nn.Module):
    def __init__(self, classes, width, out=(116, 232, 464, 1024), blocks=(3, 7, 3)):
        super().__init__()
        stem = scale(24, width)
        self.conv1, self.bn1 = conv(3, stem, 1), nn.BatchNorm2d(stem)
        layers, cin = [], stem
        for c, n in zip(out[:3], blocks):
            c = scale(c, width, 2)
            layers.append(ShuffleV2Down(cin, c))
            layers += [ShuffleV2Basic(c) for _ in range(n)]
            cin = c
        self.layers = nn.Sequential(*layers)
        last = scale(out[3], width)
        self.conv2, self.bn2 = conv(cin, last, 1), nn.BatchNorm2d(last)
        self.linear = nn.Linear(last, classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        x = F.relu(self.bn2(self.conv2(x)))
        return self.linear(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


SMALL, X4 = [16, 16, 32, 64], [32, 64, 128, 256]
MODELS = {
    **{f'resnet{d}': (lambda d: lambda k, w: ResNet(d, SMALL, k, w))(d) for d in (8, 14, 20, 26, 32, 44, 56, 110)},
    'resnet8x4': lambda k, w: ResNet(8, X4, k, w),
    'resnet32x4': lambda k, w: ResNet(32, X4, k, w),
    'wrn_16_1': lambda k, w: Wrn(16, 1, k, w),
    'wrn_16_2': lambda k, w: Wrn(16, 2, k, w),
    'wrn_40_1': lambda k, w: Wrn(40, 1, k, w),
    'wrn_40_2': lambda k, w: Wrn(40, 2, k, w),
    'vgg8': lambda k, w: Vgg([[64], [128], [256], [512], [512]], k, w),
    'vgg11': lambda k, w: Vgg([[64], [128], [256, 256], [512, 512], [512, 512]], k, w),
    'vgg13': lambda k, w: Vgg([[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]], k, w),
    'mobilenetv2': lambda k, w: MobileNetV2(k, w),
    'shufflenetv1': lambda k, w: ShuffleNetV1(k, w),
    'shufflenetv2': lambda k, w: ShuffleNetV2(k, w),
}


def build(name, classes, width):
    """The net for `name`, or None when it is not in the set."""
    make = MODELS.get(name)
    return None if make is None else make(classes, width)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--models', default='resnet8,resnet20')
    p.add_argument('--width', type=float, default=1.0)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--steps', type=int, default=20)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--classes', type=int, default=100)
    p.add_argument('--list', action='store_true')
    a = p.parse_args()
    if a.list:
        print('\n'.join(MODELS))
        return
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    for name in a.models.split(','):
        net = build(name, a.classes, a.width)
        if net is None:
            print(json.dumps({'model': name, 'error': 'not in the PyTorch benchmark set'}), flush=True)
            continue
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
