"""The example prompts the page offers under every model, after the model's own (a model's
manifest may list prompts in its language). They stay English in every interface language: the
demo model and GPT-2 read English. The demo model's card samples its continuations of the first
four (export/train_demo.py)."""

EXAMPLE_PROMPTS = (
    "Data visualization empowers users to",
    "The teacher asked the students to",
    "Once upon a time",
    "The capital of France is",
    "In the beginning God created the heaven and the",
    "To install the package, run the command",
)
