#!/usr/bin/python3
"""Derive a model from a verified upstream ONNX file, deterministically.

    /usr/bin/python3 tools/derive_model.py {dequantize-int8,dequantize-int8-multiscale,dequantize-int8-multiscale-maps,square-input-320,square-input-288,dynamic-input} SRC.onnx DST.onnx

Called by js/models.mjs when a manifest has "derived_from" and the derived file is in no model
directory or cache; the caller verifies DST against the manifest's sha256. Needs Debian's
python3-onnx and python3-numpy (tools/setup.sh installs them); same packages, same bytes.

dequantize-int8: the ONNX Model Zoo's static int8 MobileNetV2 (QLinearConv / QLinearAdd /
QLinearGlobalAveragePool) as a float32 graph with the same weights, ending at the pooled
feature 'feat' [N,1280,1,1]. Why: ONNX Runtime Web's wasm backend runs its float Conv kernels
about 1.7x faster than QLinearConv (35 vs 60 ms per 224x224 image, one thread), and dropping the
activations' 8-bit rounding lifted natural-photo -> catalog R@1 on the grocery val split from
0.780 to 0.814 (docs/quality.md). Each quantized tensor's saturation range is kept as a Clip
(that is where the int8 graph's ReLU6s went), so the float graph computes what the int8 graph
approximates.

dequantize-int8-multiscale: the same float graph, but 'feat' [N,3152,1,1] concatenates the
L2-normalised average-pooled final feature with the widest activation at each of the deeper
resolutions (the last block's expansion, and the expansions just before the 14x14, 28x28 and 56x56
stages halve; picked by graph structure, see multiscale_taps). Why: a product's print, colour and
texture live in those mid-level features more than in the ImageNet-class feature, and the
catalog adaptation (LDA) weighs them from the catalog's own photos: R@1 0.814 -> 0.841 on the
grocery val split at the same cost per image (docs/quality.md).

dequantize-int8-multiscale-maps: the multi-scale graph with a free input size and without its
pooling: its outputs map0..map4 are the five tapped activations [1,C,H,W] (1280, 960, 576, 192,
144 channels; at 288x288 9x9 to 72x72). Why: one pass over a whole frame then gives every
region's embedding, pooled by the core over the region's box (manifest "pooling": "regions"),
instead of one pass per cropped region; the free size lets a 16:9 frame keep its aspect
(384x224 rather than squashed to 288x288). Grocery val R@1 0.845 -> 0.855 with one 288x288 pass
instead of four 224x224 ones (docs/quality.md, "One pass per frame").

square-input-320: the same graph for a 320x320 input (YOLOX-Nano's 416 -> 320: 0.59x the
pixels and the convolution work; products in a shoppable frame are large). See input_size.

square-input-288: the same graph for a 288x288 input (the multi-scale embedder's 224 -> 288:
1.65x the pixels). Why: a CNN trained at 224 on random-resized crops sees objects larger in
training than in a full test image, so it recognises best at a somewhat higher test resolution
(Touvron et al. 2019, "Fixing the train-test resolution discrepancy"); finer print and texture
survive too. R@1 0.841 -> 0.865 on the grocery val split, at 1.4-1.6x the embedding time
(docs/quality.md).

dynamic-input: the same graph with a free input height and width (NCHW dims 2 and 3 named
'height' and 'width'). Why: a manifest with input.size_multiple lets the core fit the letterbox
canvas to each frame, so a 16:9 video frame goes to YOLOX-Nano as 416x256 instead of 416x416 with
its bottom 44% padding (0.63x the detector time on the test videos; the same scale, so the
same boxes up to the padding's influence at the content's edge).
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def dequantize_int8(model, multiscale=False, maps=False):
    g = model.graph
    init = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    nodes, weights = [], []
    produced = {g.input[0].name}

    def const(name, value):
        weights.append(numpy_helper.from_array(np.asarray(value, dtype=np.float32), name))
        return name

    def float_name(quantized):
        return quantized.replace('_quantized', '') + '_f'

    def scalar(name):
        return float(init[name])

    def clip(x, y, scale, zero_point):
        lo, hi = (0, 255) if init[zero_point].dtype == np.uint8 else (-128, 127)
        z, s = int(init[zero_point]), scalar(scale)
        nodes.append(helper.make_node('Clip', [x, const(y + '_lo', (lo - z) * s), const(y + '_hi', (hi - z) * s)], [y]))
        produced.add(y)

    pooled = None
    depthwise = []  # (float input, stride) of every depthwise conv, in graph order
    for n in g.node:
        i, o = list(n.input), list(n.output)
        if n.op_type == 'QuantizeLinear' and i[0] in produced:
            clip(i[0], float_name(o[0]), i[1], i[2])
        elif n.op_type == 'QLinearConv':
            x, x_scale, _, w, w_scale, w_zero, y_scale, y_zero = i[:8]
            per_channel = (-1, 1, 1, 1)
            weight = (init[w].astype(np.float64) - init[w_zero].astype(np.float64).reshape(per_channel)) \
                * init[w_scale].astype(np.float64).reshape(per_channel)
            ins = [float_name(x), const(o[0] + '_W', weight)]
            if len(i) > 8:  # int32 bias in units of x_scale * w_scale
                ins.append(const(o[0] + '_B', init[i[8]].astype(np.float64) * scalar(x_scale) * init[w_scale].astype(np.float64)))
            conv = helper.make_node('Conv', ins, [o[0] + '_conv'], name=(n.name or o[0]) + '_f')
            conv.attribute.extend(n.attribute)
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            if attrs.get('group', 1) > 1 and attrs['group'] == init[w].shape[0]:
                depthwise.append((float_name(x), max(attrs.get('strides', [1]))))
            nodes.append(conv)
            clip(o[0] + '_conv', float_name(o[0]), y_scale, y_zero)
        elif n.op_type == 'QLinearAdd' and float_name(i[0]) in produced and float_name(i[3]) in produced:
            nodes.append(helper.make_node('Add', [float_name(i[0]), float_name(i[3])], [o[0] + '_add']))
            clip(o[0] + '_add', float_name(o[0]), i[6], i[7])
        elif n.op_type == 'QLinearGlobalAveragePool':
            taps = [float_name(i[0])]
            if multiscale:
                taps += multiscale_taps(depthwise)
            if maps:  # the maps themselves: the core pools them per region (src/embed/region_pool.cpp)
                for k, t in enumerate(taps):
                    nodes.append(helper.make_node('Identity', [t], [f'map{k}']))
                pooled = taps[0]
                break
            pooled = pool(nodes, taps, float_name(o[0]))
            produced.add(pooled)
            break  # the classifier after the pooled feature is not part of an embedder
        else:
            raise SystemExit(f'dequantize-int8: unsupported node {n.op_type} {n.name!r} before the pooled feature')
    if pooled is None:
        raise SystemExit('dequantize-int8: no QLinearGlobalAveragePool: not an int8 MobileNet-style graph')
    if multiscale and len(taps) < 2:
        raise SystemExit('dequantize-int8-multiscale: no depthwise convolutions: not a MobileNet-style graph')
    src = g.input[0]
    dims = [d.dim_param or d.dim_value for d in src.type.tensor_type.shape.dim]
    if maps:
        outputs = [helper.make_tensor_value_info(f'map{k}', TensorProto.FLOAT, [dims[0], None, None, None])
                   for k in range(len(taps))]
    else:
        nodes.append(helper.make_node('Identity', [pooled], ['feat']))
        outputs = [helper.make_tensor_value_info('feat', TensorProto.FLOAT, [dims[0], None, 1, 1])]
    graph = helper.make_graph(nodes, g.name + ('_maps_f32' if maps else '_feat_f32'),
                              [helper.make_tensor_value_info(src.name, TensorProto.FLOAT, dims)],
                              outputs, weights)
    out = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 12)], producer_name='shopframe tools/derive_model.py')
    out.ir_version = 7
    onnx.checker.check_model(out)
    return out


# How many of the last resolution-reducing depthwise convolutions give their (expanded) input
# as a multi-scale tap: 3 = the 56x56, 28x28 and 14x14 stages of MobileNetV2 at 224x224.
MULTISCALE_STRIDED_TAPS = 3


def multiscale_taps(depthwise):
    """The widest activation at each resolution: the input of the last depthwise conv (the last
    block's expansion) and of each of the last MULTISCALE_STRIDED_TAPS stride-2 depthwise convs
    (the expansion just before the resolution halves), deepest first."""
    strided = [x for x, stride in depthwise if stride > 1][-MULTISCALE_STRIDED_TAPS:]
    taps = [depthwise[-1][0]] if depthwise else []
    return taps + [x for x in reversed(strided) if x not in taps]


def pool(nodes, taps, out):
    """Global average pooling of each tap; with several taps each pooled vector is
    L2-normalised first so that no stage dominates by its scale, then concatenated."""
    if len(taps) == 1:
        nodes.append(helper.make_node('GlobalAveragePool', taps, [out]))
        return out
    parts = []
    for k, t in enumerate(taps):
        nodes.append(helper.make_node('GlobalAveragePool', [t], [f'pooled{k}_f']))
        nodes.append(helper.make_node('LpNormalization', [f'pooled{k}_f'], [f'pooled{k}_l2'], axis=1, p=2))
        parts.append(f'pooled{k}_l2')
    nodes.append(helper.make_node('Concat', parts, [out], axis=1))
    return out


def input_size(model, recipe, height, width):
    """The same graph for another NCHW image input size: an int fixes a side, a str names it
    free (ONNX dim_param). Valid because fully convolutional detectors (YOLOX reshapes its heads
    with -1) and embedders ending in global pooling run at any multiple of their largest
    stride. The exporter's recorded intermediate shapes are dropped (they pin the old size) and
    the outputs' shapes are left for the runtime to infer."""
    dims = model.graph.input[0].type.tensor_type.shape.dim
    if len(dims) != 4:
        raise SystemExit(f'{recipe}: the first input has {len(dims)} dimensions, expected NCHW (4)')
    for d, side in ((dims[2], height), (dims[3], width)):
        if isinstance(side, str):
            d.dim_param = side  # a oneof with dim_value: setting one clears the other
        else:
            d.dim_value = side
    del model.graph.value_info[:]
    for out in model.graph.output:
        out.type.tensor_type.ClearField('shape')
    return model


RECIPES = {
    'dequantize-int8': dequantize_int8,
    'dequantize-int8-multiscale': lambda model: dequantize_int8(model, multiscale=True),
    'dequantize-int8-multiscale-maps': lambda model: input_size(
        dequantize_int8(model, multiscale=True, maps=True), 'dequantize-int8-multiscale-maps', 'height', 'width'),
    'square-input-320': lambda model: input_size(model, 'square-input-320', 320, 320),
    'square-input-288': lambda model: input_size(model, 'square-input-288', 288, 288),
    'dynamic-input': lambda model: input_size(model, 'dynamic-input', 'height', 'width'),
}


def main(argv):
    if len(argv) != 4 or argv[1] not in RECIPES:
        raise SystemExit(f'usage: {argv[0]} {{{",".join(RECIPES)}}} SRC.onnx DST.onnx')
    try:
        model = onnx.load(argv[2])
    except Exception as e:  # protobuf's DecodeError, OSError: one line naming the file
        raise SystemExit(f'{argv[1]}: {argv[2]}: not a readable ONNX model ({type(e).__name__}: {e})')
    if not model.graph.node or not model.graph.input:
        raise SystemExit(f'{argv[1]}: {argv[2]}: an ONNX model without a graph (empty or truncated file?)')
    onnx.save(RECIPES[argv[1]](model), argv[3])


if __name__ == '__main__':
    main(sys.argv)
