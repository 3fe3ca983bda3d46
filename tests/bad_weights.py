"""Bad weights files and the words of the reason both readers give: check_main.py
--weights (nnlab/formats/check_weights.py) and the explore page's Part 2 Load (part2.js).
tests/test_formats.py feeds them to the first, tests/test_explore.py to both."""

GOOD = {'in_hid_weight': [[1, 1]], 'hid_bias': [0.5], 'hid_out_weight': [[1]],
        'out_bias': [0]}


def weights_text(**changes):
    import json
    data = {**GOOD, **changes}
    return json.dumps({k: v for k, v in data.items() if v is not None})


BAD_WEIGHTS = [
    ('[1, 2', 'not valid JSON'),
    ('[1, 2]', 'it does not hold a JSON object'),
    (weights_text(hid_out_weight=None, out_bias=None), 'it misses hid_out_weight, out_bias'),
    (weights_text(bias=[1]), 'it has unknown keys bias'),
    (weights_text(hid_bias=[0, 1]),
     'hid_bias has shape [2] but in_hid_weight has 1 rows, so it must be [1]'),
    (weights_text(in_hid_weight=[[1, True]]), 'in_hid_weight contains true, which is not a '
                                               'number'),
    (weights_text(in_hid_weight=[[1, 1], [1]]), 'in_hid_weight has rows of different lengths'),
    (weights_text(hid_bias=[]), 'hid_bias is an empty list'),
    (weights_text(out_bias=['0']), 'out_bias contains "0", which is not a number'),
    (weights_text(in_hid_weight=[[1e7, 1]]), 'beyond +-1e+06'),
    (weights_text(in_hid_weight=[[1, 1, 1]]), 'in_hid_weight has shape'),
]
