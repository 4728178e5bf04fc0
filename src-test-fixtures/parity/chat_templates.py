"""Golden fixtures for delora-djl's chat templates (dev.delora.djl.hf.chat.ChatTemplate).

Writes fixtures/chat/chat_templates.json: a list of cases {template, source, special_tokens, case, context,
expected | error}, where `expected` is what transformers 4.57.6 (jinja2 3.1.6) renders for
`tokenizer.apply_chat_template(messages, add_generation_prompt=..., tokenize=False, **kwargs)`, computed with
transformers' own `render_jinja_template` (the function apply_chat_template calls, given the special tokens as
apply_chat_template passes them), and `error` = {type, message, line} when rendering (or compiling) raises.

The model templates are the files under fixtures/chat/templates/:

* smollm2.jinja                   HuggingFaceTB SmolLM2-Instruct tokenizer_config.json (the local copy in
                                  /work/smol/smollm2-hf at generation time).
* qwen2.5-instruct.jinja          Qwen2.5-Instruct tokenizer_config.json, as quoted verbatim in public test code
                                  (cross-checked against huggingface/trl trl/chat_templates/qwen2_5_training.jinja,
                                  which is it plus {% generation %} markers).
* qwen3.jinja                     Qwen3 original template: huggingface/trl trl/chat_templates/qwen3.jinja.
* mistral-7b-instruct-v0.3.jinja  Mistral-7B-Instruct-v0.3: huggingface/trl trl/chat_templates/mistral.jinja.
* llama-3.2-instruct.jinja        Llama-3.2-3B-Instruct tokenizer_config.json, as quoted in a public setup guide.
* gemma-2.jinja                   Gemma / Gemma-2 (google/gemma-7b-it, gemma-2-*-it) tokenizer_config.json, as quoted
                                  in mistral.rs' chat template tests.
* phi-3.jinja                     Phi-3: huggingface/trl trl/chat_templates/phi3.jinja (ends with a newline, which
                                  jinja2 drops).
* zephyr-7b-beta.jinja            HuggingFaceH4/zephyr-7b-beta tokenizer_config.json (one tag a line: trim_blocks).
* qwen3-style-macros-written.jinja  written for this test (no public Qwen3-Coder template was at hand): macros with
                                  defaults and keyword calls, namespace, mapping/sequence tests, tojson|safe, ~.

plus small targeted templates defined below for jinja2 semantics (whitespace control, loop variables, namespace,
slices, filters, tests, printing, undefined behaviour, sandbox, errors).

Run: /tmp/pyenv/bin/python src-test-fixtures/parity/chat_templates.py  (transformers==4.57.6, jinja2==3.1.6)
"""
import json
import os

import jinja2
import transformers
from transformers.utils.chat_template_utils import render_jinja_template

assert transformers.__version__ == "4.57.6", transformers.__version__
assert jinja2.__version__ == "3.1.6", jinja2.__version__

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "src", "main", "resources", "dev", "delora", "fixtures", "chat")

SMOL = {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "unk_token": "<|endoftext|>", "pad_token": "<|im_end|>"}
QWEN = {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}
LLAMA = {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}
MISTRAL = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}
GEMMA = {"bos_token": "<bos>", "eos_token": "<eos>", "unk_token": "<unk>", "pad_token": "<pad>"}
PHI = {"bos_token": "<s>", "eos_token": "<|endoftext|>", "unk_token": "<unk>", "pad_token": "<|endoftext|>"}
ZEPHYR = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}


def m(role, content, **extra):
    return {"role": role, "content": content, **extra}


SYS_USER = [m("system", "You are a terse assistant."), m("user", "Hello!")]
USER = [m("user", "What is 2+2?")]
MULTI = [m("user", "Hi"), m("assistant", "Hello! How can I help?"), m("user", "Tell me a joke."),
         m("assistant", "  Why did the chicken cross the road?  "), m("user", "Why?")]
SYS_MULTI = [m("system", "Be brief.")] + MULTI
TRICKY = [m("system", "Quotes ' and \" and \\ backslash"),
          m("user", "Unicode: héllo wörld 你好 🙂\nsecond line\n\n  indented\ttab"),
          m("assistant", "{{ not a template }} {% neither %}"), m("user", "end\n")]
TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather in a city.",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City name, e.g. \"Zürich\""},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7.5}},
        "required": ["city"]}}}]
TOOL_CHAT = [m("system", "You can call tools."), m("user", "Weather in Paris?"),
             m("assistant", "", tool_calls=[{"id": "call12345", "type": "function", "function": {
                 "name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius", "days": 2}}}]),
             m("tool", "{\"temperature\": 21.5}", tool_call_id="call12345", name="get_weather"),
             m("tool", "second result", tool_call_id="call67890"),
             m("user", "Thanks")]

MODEL_CASES = {
    "smollm2": (SMOL, [("sys_user", SYS_USER, {}), ("user_only", USER, {}), ("multi", MULTI, {}),
                       ("tricky", TRICKY, {})]),
    "qwen2.5-instruct": (QWEN, [("sys_user", SYS_USER, {}), ("user_only", USER, {}), ("multi", SYS_MULTI, {}),
                                ("tricky", TRICKY, {}), ("tools", TOOL_CHAT, {"tools": TOOLS}),
                                ("tools_no_system", USER, {"tools": TOOLS})]),
    "qwen3": (QWEN, [("sys_user", SYS_USER, {}), ("multi", MULTI, {}), ("tricky", TRICKY, {}),
                     ("thinking_off", USER, {"enable_thinking": False}),
                     ("reasoning", [m("user", "2+2?"), m("assistant", "<think>\nadd them\n</think>\n\n4"),
                                    m("user", "and 3+3?"), m("assistant", "6", reasoning_content="  sum  ")], {}),
                     ("tools", TOOL_CHAT, {"tools": TOOLS})]),
    "mistral-7b-instruct-v0.3": (MISTRAL, [
        ("sys_user", SYS_USER, {}), ("multi", SYS_MULTI, {}), ("tricky_alternating", TRICKY[:2] + [m("assistant", "ok")], {}),
        ("not_alternating", [m("user", "a"), m("user", "b")], {}),
        ("tools", [m("user", "Weather in Paris?")], {"tools": TOOLS}),
        ("tool_calls", [m("user", "Weather?"), m("assistant", None, tool_calls=[{"id": "abcdefghi", "function": {
            "name": "get_weather", "arguments": {"city": "Paris"}}}]),
            m("tool", "sunny", tool_call_id="abcdefghi")], {}),
        ("bad_tool_call_id", [m("user", "Weather?"), m("tool", "x", tool_call_id="short")], {})]),
    "llama-3.2-instruct": (LLAMA, [
        ("sys_user", SYS_USER, {"date_string": "26 Jul 2024"}), ("multi", MULTI, {"date_string": "01 Jan 2025"}),
        ("tricky", TRICKY, {"date_string": "26 Jul 2024"}),
        ("tools_in_user", [m("user", "  Weather in Paris?  ")], {"tools": TOOLS, "date_string": "26 Jul 2024"}),
        ("tools_in_system", SYS_USER, {"tools": TOOLS, "date_string": "26 Jul 2024", "tools_in_user_message": False}),
        ("tool_call", [m("user", "Weather?"), m("assistant", "", tool_calls=[{"function": {
            "name": "get_weather", "arguments": {"city": "Paris"}}}]), m("ipython", {"temp": 21}),
            m("tool", [1, "two"])], {"date_string": "26 Jul 2024"}),
        ("two_tool_calls", [m("user", "x"), m("assistant", "", tool_calls=[{"function": {"name": "a", "arguments": {}}},
                                                                          {"function": {"name": "b", "arguments": {}}}])],
         {"date_string": "26 Jul 2024"})]),
    "gemma-2": (GEMMA, [("user_only", USER, {}), ("multi", MULTI, {}), ("tricky_no_system", TRICKY[1:], {}),
                        ("system", SYS_USER, {}), ("not_alternating", [m("assistant", "x")], {})]),
    "phi-3": (PHI, [("sys_user", SYS_USER, {}), ("multi", SYS_MULTI, {}), ("tricky", TRICKY, {})]),
    "zephyr-7b-beta": (ZEPHYR, [("sys_user", SYS_USER, {}), ("multi", SYS_MULTI, {}), ("tricky", TRICKY, {})]),
    "qwen3-style-macros-written": (QWEN, [
        ("sys_user", SYS_USER, {}), ("multi", MULTI, {}), ("tools", TOOL_CHAT, {"tools": TOOLS}),
        ("only_system", [m("system", "alone")], {"tools": TOOLS})]),
}

# Small templates for jinja2 semantics; each renders with every context listed (default: one empty context).
SEMANTICS = {
    "whitespace_control": ("a  \n  {%- if true -%}  \n  b  \n  {%- endif -%}  \n c {{- ' d ' -}} e\n{#- c -#}\nf", [{}]),
    "trim_lstrip_blocks": ("<ul>\n    {% for x in xs %}\n    <li>{{ x }}</li>\n    {% endfor %}\n</ul>\n  {# note #}\n"
                           "  {%+ if true %}kept indent{% endif %}\n{% if true +%}\nkept newline{% endif %}\n"
                           "x {% if true %}inline{% endif %}  \n  {{ 'var' }}\n", [{"xs": [1, 2]}]),
    "raw_block": ("{% raw %}{{ not evaluated }}{% endraw %}\n  {%- raw -%}  {%x%}  {%- endraw %}|", [{}]),
    "loop_vars": ("{% for x in xs %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/"
                  "{{ loop.first }}/{{ loop.last }}/{{ loop.length }}/{{ loop.previtem }}/{{ loop.nextitem }}/"
                  "{{ loop.cycle('odd', 'even') }};{% else %}empty{% endfor %}",
                  [{"xs": ["a", "b", "c"]}, {"xs": []}]),
    "loop_filter_break": ("{% for x in xs if x is odd %}{% if x > 7 %}{% break %}{% endif %}{% if x == 3 %}"
                          "{% continue %}{% endif %}{{ x }}({{ loop.index }}/{{ loop.length }}) {% endfor %}",
                          [{"xs": [1, 2, 3, 4, 5, 6, 7, 8, 9]}]),
    "loop_scope": ("{% set x = 1 %}{% for i in range(3) %}{{ x }}{% set x = i * 10 %}{{ x }}|{% endfor %}{{ x }}"
                   "{% if true %}{% set x = 5 %}{% endif %}{{ x }}", [{}]),
    "unpacking": ("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for a, b in pairs %}{{ a }}{{ b }}"
                  "{% endfor %}{% set p, q = [1, 2] %}{{ p + q }}{% for k, v in d | items %}[{{ k }}]{% endfor %}",
                  [{"d": {"b": 1, "a": [2]}, "pairs": [[1, 2], ["x", "y"]]}]),
    "namespace": ("{% set ns = namespace(n=0, s='', found=false) %}{% for x in xs %}{% set ns.n = ns.n + x %}"
                  "{% set ns.s = ns.s ~ x %}{% if x == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}"
                  "{{ ns.n }} {{ ns.s }} {{ ns.found }} {{ ns.missing is defined }}", [{"xs": [1, 2, 3]}]),
    "set_block": ("{% set greeting %}  Hello {{ name }}!  {% endset %}[{{ greeting }}]"
                  "{% set t | trim | upper %}  shout {{ name }} {% endset %}[{{ t }}]", [{"name": "Ann"}]),
    "macros": ("{% macro tag(name, body='', close=true) %}<{{ name }}>{{ body }}{% if close %}</{{ name }}>"
               "{% endif %}{% endmacro %}{{ tag('b', 'x') }}{{ tag('i') }}{{ tag('br', close=false) }}"
               "{{ tag(body='k', name='p') }}{% set g = 'G' %}{% macro uses() %}{{ g }}{% endmacro %}{{ uses() }}"
               "{{ tag('x') | length }}", [{}]),
    "slices": ("{{ xs[1:] }} {{ xs[:-1] }} {{ xs[::-1] }} {{ xs[::2] }} {{ xs[-2:] }} {{ xs[5:] }} {{ s[1:3] }} "
               "{{ s[::-1] }} {{ xs[-1] }} {{ s[-1] }} {{ xs[10] }} {{ (1, 2, 3)[1:] }}",
               [{"xs": [1, 2, 3, 4], "s": "hello"}]),
    "printing": ("{{ none }} {{ true }} {{ False }} {{ 1.0 }} {{ 3 / 2 }} {{ 4 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} "
                 "{{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 1e20 }} {{ 1e-5 }} {{ 0.1 + 0.2 }} {{ 1e15 }} "
                 "{{ 123456789.125 }} {{ [1, 'a', none, true, 1.5, {'k': \"it's\"}] }} {{ (1,) }} {{ (1, 'b') }} "
                 "{{ {'a': [1, {'b': none}]} }} {{ 'x\\n' }}|{{ ['q\"', \"a'b\", 'tab\\t', 'é'] }} {{ 1, 2 }} "
                 "{{ range(3) }} {{ 10 - 2 - 3 }} {{ 2 * 3 + 4 }} {{ 'a' ~ 1 ~ none }} {{ 0x1F }} {{ 1_000 }}",
                 [{}]),
    "filters": ("{{ '  x  ' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ xs | length }}|{{ 'abc' | count }}|"
                "{{ 'hello world' | upper }}|{{ 'HeLLo' | lower }}|{{ 'hELLO world' | capitalize }}|"
                "{{ 'hello wORLD-foo (bar)' | title }}|{{ 42 | string }}|{{ '42' | int + 1 }}|{{ '3.7' | int }}|"
                "{{ 'x' | int(7) }}|{{ '2.5' | float }}|{{ 3 | float }}|{{ missing | default('dflt') }}|"
                "{{ '' | default('empty', true) }}|{{ none | d('nd') }}|{{ xs | join(', ') }}|{{ xs | first }}|"
                "{{ xs | last }}|{{ 'ab' | list }}|{{ 'a-b-c' | replace('-', '+') }}|{{ 'aaa' | replace('a', 'b', 2) }}|"
                "{{ users | selectattr('admin') | map(attribute='name') | join(',') }}|"
                "{{ users | rejectattr('admin') | map(attribute='name') | list }}|"
                "{{ users | selectattr('role', 'equalto', 'x') | list | length }}|{{ xs | select('odd') | list }}|"
                "{{ xs | reject('even') | list }}|{{ ['a', 'b'] | map('upper') | list }}|{{ '<a href=\"x\">' | e }}|"
                "{{ 'one two  three' | wordcount }}|{{ xs | reverse | list }}|{{ xs | sum }}|{{ xs | max }}|"
                "{{ [3, 1, 2] | sort }}|{{ ['b', 'A', 'c'] | sort(reverse=true) }}|{{ [1, 2, 1, 3] | unique | list }}|"
                "{{ -3 | abs }}|{{ 2.675 | round(2) }}|{{ 2.5 | round }}|{{ 'a\\nb' | indent(2) }}|"
                "{{ {'b': 1, 'a': 2} | items | list }}|{{ d | tojson }}|{{ d | tojson(indent=2) }}|"
                "{{ d | tojson(sort_keys=true) }}|{{ d | tojson(separators=(',', ':')) }}|{{ 'é\"\\n' | tojson }}|"
                "{{ [1.0, 2.5e-7, none, true] | tojson }}|{{ {} | tojson(indent=2) }}|{{ 'x' | safe }}",
                [{"xs": [1, 2, 3], "users": [{"name": "a", "admin": True}, {"name": "b", "admin": False},
                                              {"name": "c"}], "d": {"z": [1, {"y": "é"}], "a": None}}]),
    "tests": ("{{ x is defined }} {{ y is not defined }} {{ none is none }} {{ 'a' is string }} {{ d is mapping }} "
              "{{ xs is iterable }} {{ 'a' is iterable }} {{ 1 is iterable }} {{ xs is sequence }} {{ d is sequence }} "
              "{{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ 1 is integer }} {{ true is integer }} "
              "{{ 1.0 is float }} {{ true is boolean }} {{ true is true }} {{ 1 is true }} {{ false is false }} "
              "{{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 'a' is in 'cat' }} {{ 2 is in xs }} "
              "{{ 'u' is equalto 'u' }} {{ x is none }} {{ y is iterable }} {{ xs is callable }} {{ 2 is lt 3 }}",
              [{"x": 1, "d": {}, "xs": [1, 2]}]),
    "operators": ("{{ 1 == 1.0 }} {{ true == 1 }} {{ [1, 2] == [1, 2] }} {{ (1,) == [1] }} {{ 'a' < 'b' }} "
                  "{{ [1, 2] < [1, 3] }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'b' in 'abc' }} {{ 'k' in d }} "
                  "{{ 4 not in xs }} {{ 1 and 'x' }} {{ 0 or 'y' }} {{ none or [] }} {{ not xs }} {{ -x + 3 }} "
                  "{{ 'ab' * 2 }} {{ xs + [9] }} {{ 'a' + 'b' }} {{ 1 + true }} {{ 7 % 2 }} {{ 7.5 % 2 }} "
                  "{{ 'yes' if xs else 'no' }} [{{ 'yes' if not xs }}] {{ xs | length > 1 and xs[0] == 1 }}",
                  [{"d": {"k": 1}, "xs": [1, 2], "x": 5}]),
    "undefined": ("[{{ missing }}][{{ missing | length }}][{% for x in missing %}{{ x }}{% endfor %}]"
                  "[{{ d.nokey }}][{{ d['nokey'] }}][{{ missing is defined }}][{{ d.nokey is defined }}]"
                  "[{{ missing ~ 'x' }}][{{ missing | trim }}][{{ not missing }}][{{ missing == missing }}]"
                  "[{{ missing | list }}][{{ missing | default([1]) }}][{{ xs[5] is defined }}][{{ n.attr }}]",
                  [{"d": {"k": 1}, "xs": [1], "n": None}]),
    "string_methods": ("{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ 'xxaxx'.strip('x') }}|"
                       "{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|"
                       "{{ 'a-b-c'.rsplit('-', 1) }}|{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith(('x', 'c')) }}|"
                       "{{ 'ab'.upper() }}|{{ 'AB'.lower() }}|{{ \"they're bill's\".title() }}|"
                       "{{ 'hELLO'.capitalize() }}|{{ 'aXbX'.replace('X', '-') }}|{{ 'banana'.count('an') }}|"
                       "{{ 'banana'.find('na') }}|{{ 'banana'.rfind('na') }}|{{ '-'.join(['a', 'b']) }}|"
                       "{{ 'l1\\nl2\\r\\nl3'.splitlines() }}|{{ d.get('k') }}|{{ d.get('z', 'dz') }}|{{ d.get('z') }}|"
                       "{{ d.keys() | list }}|{{ d.values() | list }}|{{ '12'.isdigit() }}|{{ 'x'.removeprefix('x') }}|"
                       "{{ d['items'] is defined }}|{{ xs.index(2) }}",
                       [{"s": "  padded  ", "d": {"k": "v"}, "xs": [1, 2]}]),
    "dict_literals": ("{% set d = {'a': 1, 'b': [1, 2], 1: 'one'} %}{{ d.a }} {{ d['b'][1] }} {{ d[1] }} "
                      "{{ d | length }} {% for k in d %}{{ k }},{% endfor %} {{ {'x': none}.x is none }}", [{}]),
    "with_filter_generation": ("{% with a = 1, b = 'two' %}{{ a }}{{ b }}{% endwith %}[{{ a }}]"
                               "{% filter upper %}shout {{ 'me' }}{% endfilter %}"
                               "{% generation %}gen {{ 1 + 1 }}{% endgeneration %}", [{}]),
    "raise_exception": ("before{{ raise_exception('Bad role: ' ~ role) }}after", [{"role": "robot"}]),
    "undefined_attribute_error": ("{{ messages[0].content.text.x }}", [{"messages": [{"content": "s"}]}]),
    "undefined_name_error": ("ok\n{{ foo.bar }}", [{}]),
    "type_error_concat": ("{{ 'a' + 1 }}", [{}]),
    "type_error_add": ("{{ 1 + 'a' }}", [{}]),
    "none_attribute_error": ("{{ n.x.y }}", [{"n": None}]),
    "sandbox_append": ("{% set xs = [] %}{{ xs.append(1) }}", [{}]),
    "generator_length": ("{{ xs | select('odd') | length }}", [{"xs": [1]}]),
    "tojson_undefined": ("{{ missing | tojson }}", [{}]),
    "syntax_error_unclosed": ("line1\n{% for x in xs %}\n{{ x }}\n", [{}]),
    "syntax_error_bad_expr": ("a\nb\n{{ 1 + }}", [{}]),
    "syntax_error_unknown_tag": ("{% frobnicate %}", [{}]),
}


def render(source, tokens, ctx):
    ctx = dict(ctx)
    messages = ctx.pop("messages", None)
    tools = ctx.pop("tools", None)
    agp = ctx.pop("add_generation_prompt", False)
    try:
        rendered, _ = render_jinja_template(conversations=[messages], tools=tools, chat_template=source,
                                            add_generation_prompt=agp, **{**tokens, **ctx})
        return {"expected": rendered[0]}
    except Exception as e:  # the error the Java side must reproduce
        err = {"type": type(e).__name__, "message": str(e) if not hasattr(e, "lineno") else e.message}
        if getattr(e, "lineno", None) is not None:
            err["line"] = e.lineno
        return {"error": err}


def main():
    cases = []
    for name, (tokens, convs) in MODEL_CASES.items():
        path = os.path.join(OUT, "templates", name + ".jinja")
        with open(path, encoding="utf-8", newline="") as f:
            source = f.read()
        for case, messages, kwargs in convs:
            for agp in (False, True):
                ctx = {"messages": messages, "add_generation_prompt": agp, **kwargs}
                cases.append({"template": name, "file": "templates/" + name + ".jinja", "source": source,
                              "special_tokens": tokens, "case": f"{case}/agp={agp}", "context": ctx,
                              **render(source, tokens, ctx)})
    for name, (source, contexts) in SEMANTICS.items():
        for i, ctx in enumerate(contexts):
            cases.append({"template": name, "source": source, "special_tokens": {}, "case": str(i),
                          "context": ctx, **render(source, {}, ctx)})
    with open(os.path.join(OUT, "chat_templates.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump({"transformers": transformers.__version__, "jinja2": jinja2.__version__, "cases": cases}, f,
                  ensure_ascii=False, indent=1)
        f.write("\n")
    print(len(cases), "cases,", sum("error" in c for c in cases), "errors")


if __name__ == "__main__":
    main()
