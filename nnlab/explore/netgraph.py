"""A KMNIST net as the explore page runs it: the student's module exported by torch.export
(eval mode, one 1x1x28x28 image), its graph of ATen operations walked into a short list
of steps that the page's executor (part1.js) knows, with the weights those steps read.

Steps that depend only on weights (a transpose of a Linear's weight, say) are computed
here once and sent as weights. Each step that depends on the image is one of STEP_OPS
below; any other operation, or over MAX_WEIGHT_BYTES of weights, makes the net a reason
string (one line in its panel) instead. `layers` lists, in call order, the output of
every leaf module (what a forward hook on each module without children sees) and of
every computing step outside one, named as docs/explore.md says.
"""
import base64
import contextlib
import io
import logging
import operator

INPUT_SHAPE = (1, 1, 28, 28)
MAX_WEIGHT_BYTES = 20 * 2**20

# ATen operator (name after 'aten::') -> the page's step. 'same' passes its input on
# unchanged (eval-mode dropout, copies, and the reshapes: they keep torch's row-major
# order, only the shape changes).
STEP_OPS = {
    'linear': 'linear', 'addmm': 'linear', 'mm': 'linear', 'matmul': 'linear',
    'conv2d': 'conv2d', 'convolution': 'conv2d', '_convolution': 'conv2d',
    'max_pool2d': 'max_pool2d', 'max_pool2d_with_indices': 'max_pool2d',
    'avg_pool2d': 'avg_pool2d', 'adaptive_avg_pool2d': 'adaptive_avg_pool2d',
    '_adaptive_avg_pool2d': 'adaptive_avg_pool2d', 'mean': 'mean',
    'batch_norm': 'batch_norm', '_native_batch_norm_legit_no_training': 'batch_norm',
    'native_batch_norm': 'batch_norm',
    'relu': 'relu', 'relu_': 'relu', 'leaky_relu': 'leaky_relu', 'leaky_relu_': 'leaky_relu',
    'tanh': 'tanh', 'tanh_': 'tanh', 'sigmoid': 'sigmoid', 'sigmoid_': 'sigmoid',
    'log_softmax': 'log_softmax', '_log_softmax': 'log_softmax',
    'softmax': 'softmax', '_softmax': 'softmax',
    'dropout': 'same', 'dropout_': 'same', 'feature_dropout': 'same',
    'alpha_dropout': 'same', 'feature_alpha_dropout': 'same', 'native_dropout': 'same',
    'view': 'same', 'reshape': 'same', '_unsafe_view': 'same', 'flatten': 'same',
    'squeeze': 'same', 'unsqueeze': 'same', 'contiguous': 'same', 'clone': 'same',
    'alias': 'same', 'detach': 'same',
}
# the steps a panel does not show outside a leaf module: they compute nothing
PASSING = {'same'}
NAMES_SHOWN = ('linear (addmm, mm), conv2d, max_pool2d, avg_pool2d, adaptive_avg_pool2d, '
               'mean, batch_norm (eval), relu, leaky_relu, tanh, sigmoid, dropout (eval), '
               'flatten/view/reshape, log_softmax, softmax')


class Unsupported(Exception):
    """The net uses something the page cannot run (the message says what)."""


def _op_name(target):
    """'conv2d' for aten.conv2d.default (an operator overload), else the function's name."""
    name = getattr(target, 'name', None)
    if callable(name):
        return name().split('::')[-1].split('.')[0]
    return getattr(target, '__name__', str(target))


def _arguments(node, root):
    """The node's arguments by their schema names, defaults filled in."""
    normal = node.normalized_arguments(root, normalize_to_only_use_kwargs=True)
    if normal is None:
        raise Unsupported(f'aten.{_op_name(node.target)} with arguments it cannot read')
    return dict(normal.kwargs)


def _pair(value, default):
    if value is None or value == []:
        return list(default)
    if isinstance(value, int):
        return [value, value]
    value = [int(v) for v in value]
    return value * 2 if len(value) == 1 else value


class _Walk:
    """One pass over an exported program: constants folded, steps made, values kept (the
    graph run in torch on the example image, to find modules that compute nothing)."""

    def __init__(self, program, image):
        import torch
        self.torch = torch
        self.known = {}          # node name -> tensor (or tuple) that depends on weights only
        self.names = {}          # node name -> the name its weight is sent under
        self.values = {}         # node name -> value on the example image
        self.steps, self.tensors, self.shapes = [], {}, {}
        self.input = None
        self.root = program.graph_module
        signature = program.graph_signature
        by_input = {spec.arg.name: spec for spec in signature.input_specs}
        for node in program.graph.nodes:
            if node.op != 'placeholder':
                continue
            spec = by_input[node.name]
            kind = spec.kind.name
            if kind == 'USER_INPUT':
                self.input = node.name
                self.values[node.name] = image
                self.shapes[node.name] = list(image.shape)
            elif kind in ('PARAMETER', 'BUFFER'):
                tensor = program.state_dict.get(spec.target)
                if tensor is None:
                    tensor = program.constants[spec.target]
                self.known[node.name] = tensor.detach()
                self.names[node.name] = spec.target
            elif kind in ('CONSTANT_TENSOR', 'CUSTOM_OBJ'):
                self.known[node.name] = program.constants[spec.target]
                self.names[node.name] = spec.target
            else:
                raise Unsupported(f'an input of kind {kind}')

    def weight(self, node):
        """The name a weight tensor is sent under (None for None)."""
        if node is None:
            return None
        if not hasattr(node, 'name') or node.name not in self.known:
            raise Unsupported('an operation on two computed values')
        value = self.known[node.name]
        if not isinstance(value, self.torch.Tensor):
            raise Unsupported(f'a weight of type {type(value).__name__}')
        name = self.names.get(node.name, node.name)
        if name not in self.tensors:
            self.tensors[name] = value.detach().to(self.torch.float32).contiguous()
        return name

    def fold(self, node):
        """Compute a node that reads only weights."""
        def real(a):
            return self.known[a.name] if hasattr(a, 'name') and hasattr(a, 'op') else a
        args = self.torch.fx.node.map_aggregate(node.args, real)
        kwargs = self.torch.fx.node.map_aggregate(node.kwargs, real)
        with self.torch.no_grad():
            self.known[node.name] = node.target(*args, **kwargs)
        self.names[node.name] = node.name

    def dynamic(self, value):
        return isinstance(value, self.torch.fx.Node) and value.name not in self.known

    def add(self, node):
        """The step of a node that depends on the image."""
        torch = self.torch
        if node.target is operator.getitem:
            source, index = node.args
            if index != 0:
                raise Unsupported(f'output {index} of {source.name}')
            step = {'op': 'same', 'x': source.name}
        else:
            name = _op_name(node.target)
            op = STEP_OPS.get(name)
            if op is None or not callable(getattr(node.target, 'name', None)):
                raise Unsupported(f'aten.{name}')
            step = getattr(self, f'_{op}', self._simple)(op, _arguments(node, self.root), name)
        val = node.meta.get('val')
        shape = list(val[0].shape if isinstance(val, (tuple, list)) else val.shape)
        step.update(out=node.name, shape=shape, inShape=self.shapes[step['x']])
        self.shapes[node.name] = shape
        self.steps.append(step)

        def real(a):
            if isinstance(a, torch.fx.Node):
                return self.values[a.name] if a.name in self.values else self.known[a.name]
            return a
        with torch.no_grad():
            self.values[node.name] = node.target(
                *torch.fx.node.map_aggregate(node.args, real),
                **torch.fx.node.map_aggregate(node.kwargs, real))

    def _input(self, args):
        if self.dynamic(args.get('input')):
            return args['input'].name
        raise Unsupported('an operation whose input is not the image')

    def _simple(self, op, args, name):
        x = self._input(args)
        step = {'op': op, 'x': x}
        if op in ('log_softmax', 'softmax'):
            step['dim'] = args['dim']
        if op == 'leaky_relu':
            step['slope'] = float(args['negative_slope'])
        if op == 'same' and 'train' in args and args['train']:
            raise Unsupported(f'aten.{name} in training mode')
        return step

    def _linear(self, op, args, name):
        if name == 'linear':
            return {'op': 'linear', 'x': self._input(args),
                    'w': self.weight(args['weight']), 'b': self.weight(args.get('bias'))}
        # mm / matmul / addmm: the image's side on the left, a weight on the right
        left, right = (args['mat1'], args['mat2']) if name == 'addmm' else \
            (args['input'], args.get('mat2', args.get('other')))
        if not self.dynamic(left) or self.dynamic(right):
            raise Unsupported(f'aten.{name} with a computed value on its right')
        matrix = self.known[right.name]
        if matrix.dim() != 2:
            raise Unsupported(f'aten.{name} with a weight of {matrix.dim()} dimensions')
        scale = args.get('alpha', 1) if name == 'addmm' else 1
        folded = f'{right.name}.T'
        self.known[folded], self.names[folded] = (matrix.t() * scale).contiguous(), folded
        step = {'op': 'linear', 'x': left.name, 'b': None}
        step['w'] = self.weight(_Named(folded))
        if name == 'addmm':
            bias = self.known[args['input'].name] * args.get('beta', 1)
            if bias.dim() > 1:
                raise Unsupported('aten.addmm with a bias per row')
            folded = f'{args["input"].name}.bias'
            self.known[folded], self.names[folded] = bias.expand(matrix.shape[1]), folded
            step['b'] = self.weight(_Named(folded))
        return step

    def _conv2d(self, op, args, name):
        if args.get('transposed'):
            raise Unsupported('a transposed convolution')
        weight = self.known[args['weight'].name]
        if weight.dim() != 4:
            raise Unsupported(f'a convolution over {weight.dim() - 2} dimensions')
        kernel = list(weight.shape[2:])
        dilation = _pair(args.get('dilation'), (1, 1))
        padding = args.get('padding')
        if isinstance(padding, str):
            padding = [0, 0] if padding == 'valid' else None
            if padding is None:                 # 'same' (stride 1): torch pads this way
                total = [d * (k - 1) for d, k in zip(dilation, kernel)]
                if any(t % 2 for t in total):
                    raise Unsupported("padding='same' with an even kernel")
                padding = [t // 2 for t in total]
        return {'op': 'conv2d', 'x': self._input(args),
                'w': self.weight(args['weight']), 'b': self.weight(args.get('bias')),
                'kernel': kernel, 'stride': _pair(args.get('stride'), (1, 1)),
                'padding': _pair(padding, (0, 0)), 'dilation': dilation,
                'groups': int(args.get('groups') or 1)}

    def _max_pool2d(self, op, args, name):
        kernel = _pair(args['kernel_size'], ())
        return {'op': op, 'x': self._input(args), 'kernel': kernel,
                'stride': _pair(args.get('stride'), kernel),
                'padding': _pair(args.get('padding'), (0, 0)),
                'dilation': _pair(args.get('dilation'), (1, 1))}

    def _avg_pool2d(self, op, args, name):
        kernel = _pair(args['kernel_size'], ())
        return {'op': op, 'x': self._input(args), 'kernel': kernel,
                'stride': _pair(args.get('stride'), kernel),
                'padding': _pair(args.get('padding'), (0, 0)),
                'countPad': bool(args.get('count_include_pad', True)),
                'divisor': args.get('divisor_override')}

    def _adaptive_avg_pool2d(self, op, args, name):
        return {'op': op, 'x': self._input(args)}

    def _mean(self, op, args, name):
        dims = args.get('dim')
        if dims is None or args.get('dtype') is not None:
            raise Unsupported('aten.mean over every dimension')
        shape = self.shapes[self._input(args)]
        return {'op': 'mean', 'x': self._input(args),
                'dims': sorted(d % len(shape) for d in dims)}

    def _batch_norm(self, op, args, name):
        if args.get('training'):
            raise Unsupported('batch norm in training mode')
        return {'op': 'batch_norm', 'x': self._input(args),
                'weight': self.weight(args.get('weight')), 'bias': self.weight(args.get('bias')),
                'mean': self.weight(args['running_mean']),
                'var': self.weight(args['running_var']), 'eps': float(args['eps'])}


class _Named:
    """A stand-in for a graph node: the key of a tensor folded here."""

    def __init__(self, name):
        self.name = name
        self.op = 'folded'


@contextlib.contextmanager
def _quiet_export():
    """torch.export's warnings and the partial graph it prints when a trace fails are not
    for the student: what fails becomes one line in the panel."""
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
               if name == 'torch' or name.startswith('torch.')]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR + 10)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _leaf_calls(net, image):
    """[(module path, output)] of every call of a module without children, in call order
    (forward hooks, as a user would look)."""
    import torch
    calls, handles = [], []
    for path, module in net.named_modules():
        if path and next(module.children(), None) is None:
            handles.append(module.register_forward_hook(
                lambda m, i, o, path=path: calls.append((path, o))))
    try:
        with torch.no_grad():
            net(image)
    finally:
        for handle in handles:
            handle.remove()
    return calls


def _layers(program, net, walk, image):
    """The layer list: [{'name', 'node'}] in call order."""
    import torch
    modules = dict(net.named_modules())
    steps = {step['out']: step for step in walk.steps}
    layers = []
    for node in program.graph.nodes:
        if node.name not in steps:
            continue
        stack = list((node.meta.get('nn_module_stack') or {}).items())
        key, (path, _) = stack[-1] if stack else ('', ('', None))
        module = modules.get(path)
        if path and module is not None and next(module.children(), None) is None:
            if layers and layers[-1].get('key') == key:
                layers[-1]['node'] = node.name
            else:
                layers.append({'name': path, 'node': node.name, 'key': key, 'module': True})
        elif steps[node.name]['op'] not in PASSING:
            prefix = f'{path}.' if path else ''
            layers.append({'name': prefix + node.name, 'node': node.name, 'module': False})
    # modules that compute nothing (nn.Identity, say) have no node: find their output
    # among the values by a forward hook's
    order = [walk.input] + [step['out'] for step in walk.steps]
    calls = _leaf_calls(net, image)
    listed = [k for k, layer in enumerate(layers) if layer['module']]
    if [path for path, _ in calls] != [layers[k]['name'] for k in listed]:
        merged, at = [], 0
        for path, output in calls:
            if at < len(listed) and layers[listed[at]]['name'] == path:
                at += 1
                continue
            limit = order.index(layers[listed[at]]['node']) if at < len(listed) else len(order)
            match = [name for name in order[:limit]
                     if isinstance(output, torch.Tensor)
                     and isinstance(walk.values[name], torch.Tensor)
                     and walk.values[name].shape == output.shape
                     and torch.equal(walk.values[name], output)]
            if match:
                merged.append((listed[at] if at < len(listed) else len(layers),
                               {'name': path, 'node': match[-1], 'module': True}))
        for position, layer in reversed(merged):
            layers.insert(position, layer)
    return [{'name': layer['name'], 'node': layer['node']} for layer in layers]


def _base64(tensor):
    return base64.b64encode(tensor.numpy().astype('<f4').tobytes()).decode('ascii') \
        if tensor.numel() else ''


def _evidence(walk):
    """For a net whose first computing step is a Linear from the 784 pixels to the 10
    classes (NetLin): that step's weight and bias names, for the weight images."""
    computing = [s for s in walk.steps if s['op'] not in PASSING]
    if not computing:
        return None
    first = computing[0]
    source = first['x']
    passes = {s['out']: s['x'] for s in walk.steps if s['op'] == 'same'}
    while source in passes:
        source = passes[source]
    if first['op'] == 'linear' and source == walk.input and \
            list(walk.tensors[first['w']].shape) == [10, 784]:
        return {'w': first['w'], 'b': first['b']}
    return None


def export_net(net, core_aten=False):
    """{'input', 'output', 'steps', 'tensors': {name: [shape, base64 float32]}, 'layers',
    'evidence'} of a module, or raises Unsupported (an operation, or too many weights) or
    whatever the student's forward raised while torch.export traced it. `core_aten`
    decomposes the graph into the core ATen operations first (addmm, convolution,
    _native_batch_norm_legit_no_training, ...: what torch.export gave before torch 2.5)."""
    import torch
    net = net.eval()
    image = torch.randn(INPUT_SHAPE, generator=torch.Generator().manual_seed(0))
    with torch.no_grad(), _quiet_export():
        program = torch.export.export(net, (torch.zeros(INPUT_SHAPE),))
        if core_aten:
            program = program.run_decompositions()
    walk = _Walk(program, image)
    output = None
    for node in program.graph.nodes:
        if node.op == 'call_function':
            reads = [a for a in node.all_input_nodes]
            if not any(walk.dynamic(a) for a in reads):
                walk.fold(node)
            elif _op_name(node.target).startswith('_assert') or not node.users:
                continue
            else:
                walk.add(node)
        elif node.op == 'output':
            results = node.args[0]
            if not isinstance(results, (tuple, list)) or len(results) != 1 or \
                    not walk.dynamic(results[0]):
                raise Unsupported('an output that is not one tensor computed from the image')
            output = results[0].name
        elif node.op not in ('placeholder',):
            raise Unsupported(f'a graph node of kind {node.op}')
    size = sum(t.numel() * 4 for t in walk.tensors.values())
    if size > MAX_WEIGHT_BYTES:
        raise Unsupported(f'{size / 2**20:.1f} MB of weights, more than the page takes '
                          f'({MAX_WEIGHT_BYTES // 2**20} MB)')
    return {'input': walk.input, 'output': output, 'steps': walk.steps,
            'tensors': {name: [list(t.shape), _base64(t)] for name, t in walk.tensors.items()},
            'layers': _layers(program, net, walk, image), 'evidence': _evidence(walk)}
