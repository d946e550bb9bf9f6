"""Every string the page shows, one catalogue per locale, by stable id: English here, Simplified
Chinese (zh-CN) in messages_zh.py.

Values go into {placeholders} (str.format syntax, format specs allowed: {probability:.1%}). A
missing locale, key or value raises KeyError naming it, so a gap shows up at once, not as a blank
on the page. Explanations follow The Illustrated GPT-2: autoregression, tokens, embeddings,
masked self-attention (queries, keys, values; heads split and merged; projection), residual
adds, layer norm, the MLP, the final layer norm, weight-tied logits, softmax and sampling.
"""

from __future__ import annotations

from pyexplainer.messages_zh import ZH

EN: dict[str, str] = {
    # ------------------------------------------------------------------ page chrome
    "ui.title": "How does GPT-2 pick the next word?",
    "ui.lede": (
        "Type a text. A real GPT-2-style model runs on it inside this browser tab, in Python: "
        "no server, nothing leaves the page."
    ),
    "ui.prompt_label": "Your text",
    "ui.run": "Run the model",
    "ui.generate": "Generate one token",
    "ui.generate_many": "Generate",
    "ui.generate_count": "How many tokens to generate (1 to 50)",
    "ui.generate_tokens": "tokens",
    "ui.stop_generate": "Stop",
    "ui.generate_count_range": "Generate: {value!r} is not a whole number from 1 to 50",
    "ui.generate_drawn": (
        "Token {k} of {n}: sampling drew {label} ({probability}) from the bars above; "
        "the model runs once more, on that token alone, through the key/value cache."
    ),
    "ui.generate_drawn_unlisted": (
        "Token {k} of {n}: sampling drew {label} ({probability}), below the bars shown; "
        "the model runs once more, on that token alone, through the key/value cache."
    ),
    "ui.generate_done": "Generated {k} tokens, each drawn from the bars as they were then.",
    "ui.generate_stopped": "Stopped after {k} of {n} tokens.",
    "ui.context_full": (
        "The context is full ({n_positions} tokens): generation stops after {k} of {n} tokens."
    ),
    "ui.status": "Status:",
    "ui.status.loading": "loading",
    "ui.status.starting_model": "loading: starting the model",
    "ui.status.running": "running",
    "ui.status.ready": "ready",
    "ui.download_progress": "{name}: {received_mb:.1f} of {total_mb:.1f} MB",
    "ui.model_info": (
        "{name}: GPT-2, {n_layer} layers, {n_head} heads, d={n_embd}, {parameters_m:.1f}M "
        "parameters, {quantization} weights, context {n_positions} tokens"
    ),
    "ui.model_fidelity": (
        "{quantization} against float32 on {positions} held-out tokens: the same top token "
        "{top1:.1%} of the time, mean KL {kl:.4f} nats, perplexity {perplexity:.1f} "
        "(float32 {perplexity_fp32:.1f})"
    ),
    "ui.model_perplexity": (
        "held-out perplexity {perplexity:.0f} (unigram baseline {baseline:.0f})"
    ),
    "ui.running_on": "running on {backend}",
    "ui.tokens_heading": "Tokens",
    "ui.token_title": "position {position}, id {token_id}",
    "ui.token_span": "characters {start}-{end}",
    "ui.token_generated": "generated",
    "ui.token_prefix": "read before every text: the model was trained to begin with {label}",
    "ui.token_detail_hint": "Tap or click a token to see its bytes and id here.",
    # ------------------------------------------------------------------ tokens read as characters
    "chars.bytes": "bytes {hex}",
    "chars.part": "part {part} of {parts} of “{label}”",
    "chars.group_title": "“{label}” ({code_points}): {parts} tokens, ids {ids}",
    "chars.completes": "completes “{character}”: {before} before it, then {hex}",
    "chars.leaves_unfinished": "the text's unfinished character ({hex}) stays incomplete",
    "chars.first_byte": "first byte of a character (of {needed} bytes)",
    "chars.first_bytes": "first {have} of {needed} bytes of a character",
    "chars.incomplete": "incomplete character: {have} of its {needed} bytes",
    "chars.stray": "byte {hex} belongs to no character",
    "ui.cache_info": (
        "{n_tokens} tokens; key/value cache holds {cached} positions "
        "(the last step computed {new} new)"
    ),
    "ui.output_heading": "Next token: probabilities over the full vocabulary",
    "ui.temperature": "Temperature",
    "ui.top_k": "Top-k",
    "ui.top_p": "Top-p",
    "ui.seed": "Seed",
    "ui.settings_note": (
        "Temperature 0 always picks the most probable token; top-k 0 and top-p 1 keep every "
        "token. Bars show what sampling draws from after these settings."
    ),
    "ui.attention_check": (
        "Check: attention recomputed here in float64 numpy from the model's Q, K, V (scores, "
        "scale, causal mask, softmax, weighted values), in every block and head at "
        "{positions} of this pass's {tokens} positions (the first, the last and evenly "
        "between), differs from the model's own float32 head outputs by at most "
        "{difference:.1e}."
    ),
    "ui.layer": "Block",
    "ui.head": "Head",
    "ui.position": "Token",
    "ui.layer_norm_choice": "Layer norm",
    "ui.back_to_overview": "Back to the overview",
    "ui.tour.start": "Guided tour",
    "ui.tour.previous": "Previous",
    "ui.tour.next": "Next",
    "ui.tour.close": "Close the tour",
    "ui.tour.progress": "Step {step} of {steps}",
    "ui.page_title": "pyexplainer: how GPT-2 predicts the next token",
    "ui.language": "Language",
    "ui.examples_label": "Example prompts",
    "ui.tour.keys": (
        "Arrow keys move through the tour; Escape closes it. “Guided tour” reopens it where you "
        "left it."
    ),
    "ui.save_png": "Save as PNG",
    "ui.save_svg": "Save as SVG",
    "ui.copy_link": "Copy link",
    "ui.sankey_label": "The flow through the model",
    "ui.stages": "Stages",
    "ui.click_to_append": "Click a token to append it yourself.",
    "ui.predictions_label": "Most probable next tokens",
    "ui.recompute": "Recompute without the cache",
    "ui.weights_int8": (
        "weights downloaded {quantization}, kept as 8-bit integers and multiplied by 8-bit "
        "activations (integer matrix products)"
    ),
    "ui.weights_gpu": "weights kept {quantization} in the GPU's memory",
    "ui.new_version": "A new version of this site is ready.",
    "ui.reload": "Reload",
    "ui.backend_wasm": "WebAssembly, {threads} thread(s)",
    "ui.single_threaded": "single-threaded: the page is not cross-origin isolated",
    "ui.load_failed": "could not load the model: {error}",
    "ui.threshold": "threshold",
    "ui.not_a_number": "{setting}: {value!r} is not a number",
    "ui.threshold_range": "threshold: give a number between 0 and 1",
    "ui.list_separator": ", ",
    "ui.no_webgpu": "no WebGPU in this browser",
    "ui.webgpu_failed": "WebGPU failed: “{error}”",
    "ui.backend_note": "{backend} ({note})",
    "embedding.row": "{label} (id {token_id}, pos {position})",
    "where.attention": "layer {layer}, head {head}, query {query!r}",
    "where.mlp": "layer {layer}, {label!r}",
    "where.layernorm": "{which}, layer {layer}, {label!r}",
    "ui.facts_separator": "; ",
    # ------------------------------------------------------------------ the model picker
    "ui.status.choose_model": "waiting: choose a model above",
    "ui.model_from_disk": "opened from your disk (folder {folder}), not from this site",
    "ui.link_model_missing": (
        "This link asks for the model “{model}”, which this site does not have (it has: "
        "{models}): {running} is running instead."
    ),
    "models.summary": "Model:",
    "models.heading": "Models: choose one, or open one from your disk",
    "models.list_label": "The models of this site",
    "models.facts": (
        "{n_layer} layers, {n_head} heads, d={n_embd}, {parameters_m:.1f}M parameters, "
        "{quantization} weights, context {n_positions} tokens"
    ),
    "models.running": "running",
    "models.stored": "stored for offline use ({mb:.1f} MB): opens with no download",
    "models.download": "{mb:.1f} MB to download",
    "models.use": "Use this model",
    "models.use_label": "Use the model {model}",
    "models.training.sources": (
        "trained by this project on {sources} openly licensed English text sources "
        "({tokens_m:.1f}M tokens; {seen_m:.1f}M seen in training)"
    ),
    "models.training.webtext": (
        "trained by OpenAI on WebText (about 8 million web pages); published as {hub_id}"
    ),
    "models.training.openwebtext": (
        "distilled from GPT-2 on OpenWebText by Hugging Face; published as {hub_id}"
    ),
    "models.training.cluecorpussmall": (
        "trained by UER (Tencent) on CLUECorpusSmall (about 14 GB of Chinese text), with a "
        "vocabulary of Chinese characters; published as {hub_id}"
    ),
    "models.open_folder": "Open an exported model folder…",
    "models.drop": (
        "…or drop the folder, or its files, anywhere on this page. Nothing is uploaded: the "
        "files are read inside this tab and checked against their manifest (sizes and sha256), "
        "as this site's own models are."
    ),
    "models.advice.memory": (
        "{model} needs about {estimate_gb:.1f} GB of memory in this tab, more than this device "
        "({device_gb:.0f} GB) holds comfortably."
    ),
    "models.advice.save_data": (
        "Your browser asks to save data, and {model} is a {mb:.1f} MB download."
    ),
    "models.advice.instead": "Use {model} instead ({mb:.1f} MB)",
    "models.advice.keep": "Keep {model}",
    "models.advice.anyway": "Download {model} anyway",
    "models.fell_back.memory": (
        "{model} was asked for; it needs about {estimate_gb:.1f} GB of memory in this tab, more "
        "than this device ({device_gb:.0f} GB) holds comfortably, so {running} runs instead."
    ),
    "models.fell_back.save_data": (
        "{model} was asked for; your browser asks to save data and it is a {mb:.1f} MB "
        "download, so {running} runs instead."
    ),
    "models.not_opened": "{name} was not opened ({error}); {running} keeps running.",
    "models.folder_not_opened": "The folder was not opened ({error}); {running} keeps running.",
    "models.view_missing": (
        "{model} has no {part} ({n_layer} blocks of {n_head} heads): the embedding view is open "
        "instead."
    ),
    "models.download_broken": (
        "The download of {file} broke off before its end. Nothing of it was kept: Retry "
        "downloads it again."
    ),
    "models.retry": "Retry",
    # ------------------------------------------------------------------ storage for offline use
    "storage.measuring": "Measuring what this site keeps on this device…",
    "storage.stored": (
        "{model} is stored for offline use: this site keeps {mb:.1f} MB on this device "
        "({files} files)."
    ),
    "storage.storing": (
        "Storing {model} for offline use: {mb:.1f} MB on this device so far ({files} files)."
    ),
    "storage.kept": "This site keeps {mb:.1f} MB on this device ({files} files).",
    "storage.summary_warning": "⚠ offline use unavailable",
    "storage.refused": (
        "Offline use is not available on this device: the browser refused to store {count} "
        "file(s), {file} among them ({error}). The page runs from the network; a later visit "
        "with more free space stores it. This site keeps {mb:.1f} MB here ({files} files)."
    ),
    "storage.no_worker": (
        "Offline use is not available in this browser window (no service worker runs here: a "
        "private window, or site storage turned off); the page runs from the network."
    ),
    "storage.freed": (
        "Freed {freed_mb:.1f} MB: this device keeps nothing of this site now. The page runs on; "
        "the next visit downloads it again, and needs the network."
    ),
    "storage.quota": "The browser allows this site {quota_mb:,.0f} MB.",
    "storage.free": "Free this space",
    # ------------------------------------------------------------------ overview
    "overview.title": "The whole model at a glance",
    "overview.legend": (
        "Every box is one step of the model and every band the vectors passing between steps. "
        "Sizes are real numbers from your text: mostly the average length (L2 norm) of the "
        "vectors over your tokens; each box says what its size measures. "
        "The straight bands are the residual stream; each block branches off it through a layer "
        "norm into attention or the MLP and adds the result back. Click a box to open that step."
    ),
    "overview.node.tokens": "Tokens",
    "overview.node.token_embedding": "Token embedding",
    "overview.node.position_embedding": "Position embedding",
    "overview.node.embedding": "Embedding (sum)",
    "overview.node.ln1": "Layer norm 1, block {layer}",
    "overview.node.attention": "Attention, block {layer}",
    "overview.node.attention_add": "Add, block {layer}",
    "overview.node.ln2": "Layer norm 2, block {layer}",
    "overview.node.mlp": "MLP, block {layer}",
    "overview.node.mlp_add": "Add, block {layer}",
    "overview.node.ln_f": "Final layer norm",
    "overview.node.logits": "Logits",
    "overview.node.probabilities": "Probabilities",
    "overview.node.attribution": "Which parts wrote it",
    # ------------------------------------------------------------------ explanations
    "explain.embedding": (
        "Each token id picks one row of the token embedding matrix (wte): a vector of numbers "
        "the model learned in training. Attention by itself does not see word order, so a "
        "second learned matrix (wpe) holds one vector per position: 0, 1, 2, ... The two vectors "
        "are added; the sum is where the residual stream of that token begins."
    ),
    "explain.residual": (
        "Each token keeps one vector, the residual stream, from the embedding to the output. "
        "Every block reads it (through a layer norm), computes something and adds the result "
        "back: first the attention output, then the MLP output. Nothing is overwritten, only "
        "added."
    ),
    "explain.layernorm": (
        "Layer norm rescales one token's vector: subtract the mean of its numbers and divide by "
        "their standard deviation (the square root of the variance plus a tiny epsilon), so "
        "that they have mean 0 and standard deviation about 1. Then every number is multiplied by "
        "its own learned "
        "scale (gain) and shifted by a learned bias. GPT-2 does this before attention (ln_1), "
        "before the MLP (ln_2), and once more after the last block (ln_f)."
    ),
    "explain.attention": (
        "Masked self-attention lets each token take in information from the tokens before it. "
        "A linear layer (c_attn) makes three vectors from each token's layer-normed vector: a "
        "query (what this token is looking for), a key (a label: what this token offers to be "
        "found by) and a value (what this token passes on when it is attended to)."
    ),
    "explain.attention.lines": (
        "Attention as lines: each line goes from the token on the left to a token it attends to "
        "on the right, one line per head shown, in that head's colour and dash. The stronger the "
        "head's attention weight w, the thicker and more opaque the line: width {min_width:g} + "
        "({max_width:g} − {min_width:g}) × w px, opacity {min_opacity:g} + (1 − {min_opacity:g}) "
        "× w. Point at, tap or focus a token on the left to see its lines; click it or press "
        "Enter to follow it in every view; the arrow keys move between tokens. A long text "
        "scrolls; beyond {max_lines} lines each head keeps its strongest and the rest are "
        "counted below."
    ),
    "explain.attention.grid": (
        "Each small square is one head: row = the token that looks, column = the token looked "
        "at, the stronger the colour the more weight. The empty triangle above the diagonal is "
        "the causal mask."
    ),
    "explain.mlp": (
        "The MLP (feed-forward layer) works on each token on its own. A linear layer (c_fc) "
        "widens the vector to 4 times its size, GELU is applied to each of these numbers, and a "
        "second linear layer (c_proj) brings it back to the stream's size. The result is added "
        "to the residual stream."
    ),
    "explain.final_norm": (
        "After the last block, one final layer norm (ln_f) is applied to every token's stream."
    ),
    "explain.logits": (
        "The output layer reuses the token embedding matrix (weight tying): the logit of each "
        "vocabulary token is the dot product of the last token's final vector with that "
        "token's embedding row. One number per token of the vocabulary; only the last token's "
        "logits are needed to predict what comes next."
    ),
    "explain.softmax": (
        "Softmax over the full vocabulary turns the logits into probabilities: e to the power "
        "of each logit, divided by the sum of these over every token of the vocabulary."
    ),
    "output.rest": "rest of the vocabulary ({count} tokens)",
    "output.cut": "cut by the settings",
    "output.kept": "{kept} of {vocab_size} tokens can be drawn",
    "mlp.off_share": (
        "{off_share:.0%} of the {units} hidden units are below {off_below:g} (switched off); "
        "{negative_share:.0%} are negative."
    ),
    # ------------------------------------------------------------------ formulas
    "attention.formula.scores": "scores = q · kᵀ",
    "attention.formula.scale": "scaled = scores × 1/√d_head",
    "attention.formula.mask": "masked = scaled where the key's position ≤ the query's, else −∞",
    "attention.formula.softmax": "weights = softmax(masked) = e^masked / Σ e^masked",
    "attention.formula.weighted_sum": "head output = weights · V = Σⱼ weightⱼ vⱼ",
    "attention.formula.merge": "merged = [head 0 | head 1 | … | head H−1]",
    "attention.formula.projection": "attention output = merged · W_proj + b_proj",
    "attention.formula.residual": "x_mid = x + attention output",
    "mlp.formula.gelu": "GELU(x) = 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))",
    "output.formula.logits": "logits = ln_f(x) · wteᵀ",
    "output.formula.softmax": "p = softmax(logits / temperature)",
    # ------------------------------------------------------------------ guided tour
    "tour.autoregression.title": "One token at a time",
    "tour.autoregression.body": (
        "The model has read {n_tokens} tokens and gives every token of its vocabulary a "
        "probability of coming next. Its favourite is “{top_label}” with {top_probability:.1%}. "
        "Pick one, append it, run again: that is how GPT-2 writes."
    ),
    "tour.tokens.title": "Text becomes tokens",
    "tour.tokens.body": (
        "Your text is {n_tokens} tokens from a vocabulary of {vocab_size}. The first is "
        "“{first_label}” (id {first_id}); the last is “{last_label}” (id {last_id})."
    ),
    "tour.tokens.body_prefix": (
        "The model reads {n_tokens} tokens from a vocabulary of {vocab_size}: first "
        "“{first_label}” (id {first_id}), which comes from no text (the model was trained to read "
        "it before every text), then the {n_text} of your text; the last is “{last_label}” "
        "(id {last_id})."
    ),
    "tour.token_embedding.title": "Each token becomes a vector",
    "tour.token_embedding.body": (
        "Token id {last_id} (“{last_label}”) picks row {last_id} of the token embedding matrix: "
        "{n_embd} numbers learned in training. The first is {first_value:.3f}; the vector's "
        "length is {norm:.2f}."
    ),
    "tour.position_embedding.title": "Position matters",
    "tour.position_embedding.body": (
        "Attention alone does not see order, so the model adds a learned vector for each "
        "position. “{last_label}” is at position {position}; that position's vector starts with "
        "{first_value:.3f} and has length {norm:.2f}."
    ),
    "tour.embedding_sum.title": "The residual stream begins",
    "tour.embedding_sum.body": (
        "Token vector + position vector = the residual stream of “{last_label}”, length "
        "{norm:.2f}. Each token keeps such a vector all the way to the output."
    ),
    "tour.blocks.title": "{n_layer} blocks, one after another",
    "tour.blocks.body": (
        "The stream passes through {n_layer} identical blocks (each with its own weights). "
        "Each block has a layer norm, masked self-attention and an add, then a layer norm, an "
        "MLP and an add."
    ),
    "tour.layer_norm.title": "Layer norm",
    "tour.layer_norm.body": (
        "Before attention in block 0, the {n_embd} numbers of “{last_label}” have mean "
        "{mean:.3f} and standard deviation {std:.3f}. Layer norm subtracts the mean, divides by "
        "the standard deviation, then applies a learned scale and shift to each number."
    ),
    "tour.qkv.title": "Query, key, value",
    "tour.qkv.body": (
        "From each token the block makes a query (what am I looking for?), a key (what do I "
        "offer?) and a value (what do I pass on?), each split into {n_head} heads of {d_head} "
        "numbers ({n_head} × {d_head} = {n_embd})."
    ),
    "tour.scores.title": "Dot products",
    "tour.scores.body": (
        "In block 0, head 0, the query of “{query_label}” times the key of “{key_label}” gives "
        "the score {score:.3f}. One score for every token it may look at."
    ),
    "tour.scale.title": "Scaling",
    "tour.scale.body": (
        "Each score is multiplied by 1/√{d_head} = {scale:.4f}, so {score:.3f} becomes "
        "{scaled:.3f}. This keeps the scores from growing with the head size."
    ),
    "tour.mask.title": "No peeking ahead",
    "tour.mask.body": (
        "“{query_label}” at position {position} may look at {allowed} tokens: itself and "
        "those before it. Of the {cells} query-key pairs of this step, {masked} are masked "
        "(set to −∞) because the key comes later than the query."
    ),
    "tour.softmax.title": "Softmax: scores become weights",
    "tour.softmax.body": (
        "Softmax turns the scores into weights that sum to 1. Head 0 of block 0 gives "
        "“{query_label}” its largest weight, {weight:.1%}, on “{key_label}”."
    ),
    "tour.weighted_sum.title": "A weighted sum of values",
    "tour.weighted_sum.body": (
        "The head's output for “{query_label}” is the sum of the value vectors weighted this "
        "way: {d_head} numbers, length {norm:.2f}."
    ),
    "tour.merge_projection.title": "Heads merged and projected",
    "tour.merge_projection.body": (
        "The {n_head} heads' outputs are concatenated back into {n_embd} numbers and mixed by a "
        "learned projection (c_proj). The attention output for “{query_label}” has length "
        "{norm:.2f}."
    ),
    "tour.residual_add.title": "Added to the stream",
    "tour.residual_add.body": (
        "The attention output (length {added:.2f}) is added to the stream of “{label}” "
        "(length {before:.2f}): the stream now has length {after:.2f}."
    ),
    "tour.mlp.title": "The MLP",
    "tour.mlp.body": (
        "After a second layer norm, the MLP widens each token's {n_embd} numbers to {units} "
        "(4×), applies GELU, and projects back to {n_embd}. Its output for “{label}” has "
        "length {norm:.2f} and is added to the stream."
    ),
    "tour.gelu.title": "GELU switches units off",
    "tour.gelu.body": (
        "GELU keeps positive numbers and squashes negative ones towards 0. For “{label}” in "
        "block 0, {off_share:.0%} of the {units} hidden units are below {off_below:g}, where "
        "GELU's output is nearly 0."
    ),
    "tour.deeper.title": "Block after block",
    "tour.deeper.body": (
        "Every block adds to the stream. For “{label}” its length goes from {first:.2f} "
        "entering block 0 to {last:.2f} after block {last_layer}."
    ),
    "tour.final_norm.title": "Final layer norm",
    "tour.final_norm.body": (
        "After the last block, one more layer norm: the stream of “{label}” has mean {mean:.3f} "
        "and standard deviation {std:.3f} before it is normalised, scaled and shifted."
    ),
    "tour.logits.title": "Logits by weight tying",
    "tour.logits.body": (
        "The final vector of the last token is multiplied with every row of the token embedding "
        "matrix, the same matrix that embedded the tokens: {vocab_size} logits, one per token. "
        "The largest, {top_logit:.2f}, belongs to “{top_label}”."
    ),
    "tour.softmax_output.title": "Probabilities over the whole vocabulary",
    "tour.softmax_output.body": (
        "Softmax over all {vocab_size} logits: “{top_label}” gets {top_probability:.1%} and "
        "“{second_label}” {second_probability:.1%}."
    ),
    "tour.sampling.title": "Temperature, top-k, top-p",
    "tour.sampling.body": (
        "With temperature {temperature:g}, top-k {top_k} and top-p {top_p:g}, {kept} tokens "
        "can be drawn, and “{top_label}” has {top_probability:.1%}. Change the settings and "
        "watch the bars."
    ),
    "tour.generation.title": "Generate, reusing the key/value cache",
    "tour.generation.body": (
        "The key/value cache now holds the keys and values of {cached} positions in each of "
        "the {n_layer} blocks and {n_head} heads. The next step runs only the new token, whose "
        "query attends to all of them."
    ),
    "tour.attribution.title": "Which parts wrote “{top_label}”?",
    "tour.attribution.body": (
        "The logit of “{top_label}”, {top_logit:.2f}, is the final layer norm's output times the "
        "token's row of the output layer. That output is the residual stream, a sum of "
        "{n_parts} parts (embeddings, every head, every attention bias, every MLP), centred and "
        "divided by its standard deviation, here {std:.3f}. Hold {std:.3f} fixed and the "
        "logit splits exactly into one number per part: the attribution stage ranks them."
    ),
    # ------------------------------------------------------------------ detail views
    "stage.embedding": "Embeddings",
    "stage.attention": "Attention",
    "stage.layernorm": "Layer norm",
    "stage.mlp": "MLP",
    "stage.residual": "Residual stream",
    "stage.output": "Output",
    "stage.heads": "Head roles",
    "stage.lens": "Logit lens",
    "stage.whatif": "What if?",
    "stage.attribution": "Attribution",
    # ------------------------------------------------------------------ logit lens
    "lens.heading": "Logit lens: what the model would say if it stopped early",
    "lens.explanation": (
        "Every row of the residual stream, from the embeddings to the last block, read out as if "
        "it were the last: through the final layer norm and the output layer (the token "
        "embedding, tied), then softmax. Each cell shows the most probable next token at that "
        "depth and position, and its probability; hover or tap for the top five. The bottom row "
        "is the model's real prediction. Reading a column downwards shows at which block the "
        "model settles on its answer."
    ),
    "lens.caption": "Top next token per depth (rows) and position (columns)",
    "lens.corner": "depth \\ token",
    "lens.depth_embeddings": "embeddings",
    "lens.depth_block": "after block {block}",
    "lens.depth_final": "after block {block} (output)",
    "lens.where": "{depth}, token {token}",
    "lens.cell_title": "{where}: the most probable next tokens\n{ranked}",
    "lens.legend": (
        "Darker blue: more probable. Outlined: the top token is the token that really comes next "
        "in your text."
    ),
    "lens.settled": (
        "At the last position the final answer “{label}” is on top from this depth on: {depth}."
    ),
    "lens.last_positions": "The grid shows the last {shown} of your {total} tokens.",
    "lens.computing": "Running the model again with the logit lens on every row…",
    # ------------------------------------------------------------------ attribution
    "attribution.heading": "Attribution: which parts of the model wrote this token's logit",
    "attribution.explanation": (
        "After the last block the residual stream at the last position is a sum of parts: the "
        "embeddings, what each head wrote (its output through its own rows of the block's "
        "output matrix), each block's attention bias and each MLP's output. The final layer "
        "norm subtracts the mean and divides by the standard deviation σ. Hold σ at the value "
        "the model computed for this text and the layer norm is linear, so the token's logit "
        "splits exactly into one number per part, plus the layer norm's shift: "
        "((part − its mean) / σ × gain) · the token's row of the output layer. Positive parts "
        "push the token up, negative ones push it down. Exact for this input only: another text "
        "has another σ."
    ),
    "attribution.computing": "Running the last token again to read what each part wrote…",
    "attribution.target": "Token",
    "attribution.other": "Against",
    "attribution.no_other": "(nothing: its own logit)",
    "attribution.filter": "Show",
    "attribution.filter_all": "every part",
    "attribution.filter_heads": "heads only",
    "attribution.filter_mlps": "MLPs only",
    "attribution.top": "How many",
    "attribution.typed": "or type one",
    "attribution.not_one_token": (
        "“{typed}” is {count} tokens in this model’s vocabulary: type one token."
    ),
    "attribution.part_embed": "embeddings",
    "attribution.part_head": "block {block}, head {head}",
    "attribution.part_attn_bias": "block {block}, attention bias",
    "attribution.part_mlp": "block {block}, MLP",
    "attribution.part_lnf_bias": "final layer norm's shift",
    "attribution.named": "{part} adds {value} to the logit of “{token}”.",
    "attribution.named_difference": "{part} adds {value} to “{token}” over “{other}”.",
    "attribution.bar_title": "{part}: {value:+.7g} (logit units)",
    "attribution.shown": "The {shown} largest of {total} parts, by size.",
    "attribution.blocks_caption": (
        "Each block's parts added up (the embeddings alone: {embed}): which depth decides."
    ),
    "attribution.block_title": "block {block}: {value:+.4g}",
    "attribution.lens_pending": (
        "The logit lens reads the residual stream itself after each block: "
        "open it to see from which block “{token}” comes out on top."
    ),
    "attribution.lens_settled": (
        "The logit lens, reading the residual stream itself after each block, "
        "has “{token}” on top from block {block} on (● under the chart)."
    ),
    "attribution.lens_never": (
        "The logit lens does not end on “{token}”: after "
        "the last block its top token is another one."
    ),
    "attribution.open_lens": "Open the logit lens",
    "attribution.check": (
        "The parts and the shift add up to {total}; the model's own output layer gives "
        "{logit} (difference {difference})."
    ),
    "attribution.int8_note": (
        "On WebAssembly the output layer rounds its input to 8 bits before multiplying, which "
        "is not linear in the parts: the difference is that rounding."
    ),
    # ------------------------------------------------------------------ what-if ablation
    "whatif.heading": "What if? Switch heads or MLPs off",
    "whatif.explanation": (
        "Tick any heads and MLPs, then run: the model runs your whole text again with them "
        "switched off, and the new prediction appears beside the real one. Zero ablation "
        "removes a part's output; mean ablation replaces it by its average over the positions "
        "of your text, which keeps its typical size and removes only what depends on the token. "
        "A head is switched off before the output projection, whose bias stays; an MLP with its "
        "bias."
    ),
    "whatif.switches": "Parts to switch off (ticked = off)",
    "whatif.head": "head {head}",
    "whatif.head_switch": "Switch off head {head} of block {layer}",
    "whatif.mlp_switch": "Switch off the MLP of block {layer}",
    "whatif.mode": "Ablation",
    "whatif.mode.zero": "zero: output replaced by zeros",
    "whatif.mode.mean": "mean: output replaced by its mean over the positions",
    "whatif.run": "Run with these parts off",
    "whatif.clear": "Switch everything back on",
    "whatif.head_name": "block {layer} head {head}",
    "whatif.mlp_name": "block {layer} MLP",
    "whatif.nothing_off": "Nothing switched off: the model as it is.",
    "whatif.off": "Switched off: {parts} ({mode}).",
    "whatif.top_change": "Top token “{label}”: {before} → {after} ({change} points).",
    "whatif.top_changed": "The most probable next token changed.",
    "whatif.top_kept": "The most probable next token stayed the same.",
    "whatif.kl": "KL divergence of the new distribution from the real one: {kl} nats.",
    "whatif.before": "Real prediction",
    "whatif.after": "With the parts switched off",
    "whatif.was": " (was {before})",
    "ui.link_copied": "Link copied: it opens this view, with this text and these settings.",
    "ui.link_view_missing": (
        "This link asks for {part}, which this model ({n_layer} blocks of {n_head} heads) does "
        "not have: the embedding view is open instead."
    ),
    "ui.link_value_unused": (
        "This link gives {parameter}={value}, which the page cannot use ({parameter} takes "
        "{expected}): it uses the default instead."
    ),
    "link.expected.prompt": "a text of at least one character; the default is the page's own text",
    "link.expected.view": "a view such as attention,2",
    "link.expected.head": "a whole number",
    "link.expected.token": "a whole number",
    "link.expected.t": "a number of 0 or more, 0 for always the most probable token",
    "link.expected.k": "a whole number of 0 or more, 0 for off",
    "link.expected.p": "a number above 0 and at most 1, 1 for off",
    "link.expected.seed": "a whole number of 0 or more",
    "link.expected.gen": "token ids of this model's vocabulary, separated by commas",
    "link.expected.embed": "1 for the view alone, or 0",
    "link.expected.target": "a token id of this model's vocabulary (a whole number from 0)",
    "link.expected.lang": "a language the page has: en or zh-CN",
    "ui.too_long": (
        "The text has {n_tokens} tokens, more than this model's context of {n_positions}."
    ),
    "ui.keep_last_tokens": "Keep the last tokens that fit",
    "ui.kept_last_tokens": (
        "Kept the last {kept} tokens that fit the context of {n_positions}: the first "
        "{dropped} tokens of the text were dropped."
    ),
    "check.sum": (
        "Check: the token and position rows, added here in float64, differ from the model's own "
        "float32 sum by at most {difference} (float32 keeps about 7 digits)."
    ),
    "check.head": (
        "Check: these weights × V, recomputed here in float64 from the model's Q, K and V, "
        "differ from the model's own float32 head output by at most {difference}."
    ),
    "check.add": (
        "Check: the stream + what was added, recomputed here in float64, differs from the "
        "model's own float32 next stream by at most {difference}."
    ),
    "check.layernorm": (
        "Check: this layer norm, recomputed here in float64 from the input vector alone (its "
        "mean and variance, ε, gain and bias), differs from the model's own float32 output by at "
        "most {difference}."
    ),
    "check.merge": (
        "Nothing to check: merging only sets the model's head outputs side by side (a reshape)."
    ),
    "check.projection": (
        "Not rechecked: this is the model's own attention output; the page does not have the "
        "c_proj weights to recompute it."
    ),
    "embedding.token": "token embedding: row `token id` of wte",
    "embedding.token.formula": "wte[token id]",
    "embedding.position": "position embedding: row `position` of wpe",
    "embedding.position.formula": "wpe[position]",
    "embedding.sum": "their sum: the residual stream entering block 0",
    "embedding.sum.formula": "x₀ = wte[token id] + wpe[position]",
    "attention.grid.head": "block {layer}, head {head}",
    "attention.lines.head": "head {head}",
    "attention.lines.all": "All heads",
    "attention.lines.heads": "Heads whose lines are shown, block {layer}",
    "attention.lines.label": (
        "Attention as lines, block {layer}: the tokens attending on the left, the tokens they "
        "attend to on the right"
    ),
    "attention.lines.token": "Token “{label}” at position {position}: show its attention",
    "attention.lines.pick": "“{label}”: click, tap or press Enter to follow it in every view",
    "attention.lines.no_heads": "No head is shown: switch on at least one head above.",
    "attention.lines.omitted": (
        "Head {head}: the {count} weakest lines of “{label}” are not drawn; together they hold "
        "{weight:.2%} of its attention."
    ),
    "attention.lines.table": "Attention weights of “{label}”, block {layer}, the heads shown",
    "attention.zoom": "Block {layer}, head {head}, enlarged: row = query token, column = key",
    "attention.step.scores": "Dot products of the query with every key",
    "attention.step.scale": "Scale",
    "attention.step.mask": "Causal mask",
    "attention.step.softmax": "Softmax: the attention weights",
    "attention.step.weighted_sum": "Weighted sum of the values",
    "attention.step.merge": "Merge the heads",
    "attention.step.projection": "Output projection (c_proj)",
    "attention.step.residual": "Residual add",
    "attention.q": "query q",
    "attention.k": "keys K",
    "attention.scores": "scores",
    "attention.scaled": "scaled scores",
    "attention.masked": "masked scores",
    "attention.weights": "attention weights",
    "attention.v": "values V",
    "attention.head_output": "head output",
    "attention.merged": "all heads, concatenated",
    "attention.projected": "attention output",
    "attention.residual_before": "stream entering the block",
    "attention.residual_after": "stream after the attention add",
    "mlp.input": "input: the second layer norm's output",
    "mlp.input.formula": "h = ln_2(x_mid)",
    "mlp.pre": "expand to 4 × width",
    "mlp.pre.formula": "a = h · W_fc + b_fc   ({width} → {hidden} numbers)",
    "mlp.gelu": "GELU",
    "mlp.gelu.curve": "GELU(x); bars: how many of this token's units have each x",
    "mlp.gelu.alt": "The GELU curve over this token's pre-activations, with their histogram",
    "mlp.activated": "after GELU",
    "mlp.output": "project back to the model's width",
    "mlp.output.formula": "m = GELU(a) · W_proj + b_proj   ({hidden} → {width} numbers)",
    "mlp.residual": "Residual add",
    "mlp.residual.formula": "x_next = x_mid + m",
    "mlp.residual_before": "stream after the attention add",
    "mlp.residual_after": "stream leaving the block",
    "mlp.check": (
        "Check: GELU recomputed here in float64 from the numbers before it differs from the "
        "model's own float32 GELU output by at most {difference}."
    ),
    "layernorm.mean": "mean",
    "layernorm.std": "std",
    "layernorm.input": "input vector",
    "layernorm.input.formula": "mean = Σx / D,   std = √(Σ(x − mean)² / D + ε)",
    "layernorm.normalised": "normalised",
    "layernorm.normalised.formula": "(x − mean) / std",
    "layernorm.gain": "learned scale (gain) and shift (bias)",
    "layernorm.gain.formula": "γ, β: learned in training, the same for every token",
    "layernorm.bias": "bias β",
    "layernorm.output": "output",
    "layernorm.output.formula": "γ × (x − mean) / std + β",
    "residual.col.layer": "block",
    "residual.col.entering": "‖stream‖ entering",
    "residual.col.attention_added": "‖attention adds‖",
    "residual.col.after_attention": "‖stream‖ after attention",
    "residual.col.mlp_added": "‖MLP adds‖",
    "residual.col.after_mlp": "‖stream‖ leaving",
    "residual.token": "Sizes (L2 norms) for the token {token!r}.",
    "output.bar_title": "model probability {probability:.2%}, logit {logit:.3f}",
    "output.rest_mass": (
        "rest of the vocabulary: {probability:.2%} after the settings "
        "({model_probability:.2%} by the model); {kept} of {vocab_size} tokens can be drawn"
    ),
    "ui.examples": "Pick an example…",
    "output.recompute": (
        "Recomputed all {tokens} tokens without the cache: the logits differ from the cached "
        "step's by at most {difference}. Model time: {full_ms:.0f} ms for the full pass, "
        "{cached_ms:.0f} ms for the cached step that computed {new} new token(s)."
    ),
    "output.final_norm": "final layer norm output of the last token",
    "output.final_norm.formula": "h = ln_f(x_L)",
    "output.logits": "Logits: one score per vocabulary token",
    "output.softmax": "Softmax over the full vocabulary",
    "output.col.token": "token",
    "output.col.id": "id",
    "output.col.logit": "logit",
    "output.col.model_probability": "model probability",
    "output.col.probability": "after the settings",
    # ------------------------------------------------------------------ analysis panels
    "interpretability.heading": "Interpretability: how focused is each head?",
    "interpretability.average": "average over the {n_head} heads",
    "interpretability.threshold": "Threshold for the sparsity metrics ",
    "interpretability.sparsity": "sparsity",
    "interpretability.sparsity.definition": (
        "Share of the weights a head may use (the causal mask allows them) that are below "
        "{threshold}: near 1, the head ignores almost every token; near 0, it uses them all."
    ),
    "interpretability.row_sparsity_mean": "mean row sparsity",
    "interpretability.row_sparsity_mean.definition": (
        "For each query token, the share of its allowed weights below {threshold}; "
        "averaged over the query tokens."
    ),
    "interpretability.row_sparsity_max": "max row sparsity",
    "interpretability.row_sparsity_max.definition": (
        "For each query token, the share of its allowed weights below {threshold}; "
        "the largest over the query tokens."
    ),
    "interpretability.entropy": "entropy (bits)",
    "interpretability.entropy.definition": (
        "Shannon entropy of a row, H = −Σ p·log₂ p over the allowed keys: 0 bits when all weight "
        "is on one token, log₂ n bits when it is spread evenly over the n tokens the row may see."
    ),
    "interpretability.kl_uniform": "KL from uniform (bits)",
    "interpretability.kl_uniform.definition": (
        "Kullback–Leibler divergence of a row from the even spread over its n allowed keys, "
        "KL = Σ p·log₂(p·n): 0 for an even spread, log₂ n when all weight is on one token. "
        "Entropy + KL = log₂ n."
    ),
    "debugging.heading": "Debugging: the distribution of every number in block {layer}",
    "debugging.residual": "residual stream entering the block",
    "debugging.q": "queries Q of head {head}",
    "debugging.k": "keys K of head {head}",
    "debugging.v": "values V of head {head}",
    "debugging.scores": "raw scores Q·Kᵀ (allowed cells)",
    "debugging.scaled": "scaled scores Q·Kᵀ × {scale:.4f} (= 1/√d_head)",
    "debugging.weights": "attention weights after softmax (allowed cells)",
    "debugging.mlp_act": "MLP hidden layer after GELU",
    "debugging.stats": (
        "{count} numbers: mean {mean:.4g}, std {std:.4g}, min {min:.4g}, max {max:.4g}"
    ),
    "head_roles.heading": "Head roles: what each head tends to do",
    "head_roles.ranked": "Heads ranked by {role}",
    "head_roles.head": "block {layer}, head {head}: {score:.3f}",
    "head_roles.previous_token": "previous token",
    "head_roles.previous_token.definition": (
        "Mean attention weight a token puts on the token just before it."
    ),
    "head_roles.first_token": "first token (sink)",
    "head_roles.first_token.definition": (
        "Mean attention weight on the first token. Heads with nothing to do often park their "
        "attention there, an “attention sink”."
    ),
    "head_roles.self_attention": "self",
    "head_roles.self_attention.definition": (
        "Mean attention weight a token puts on itself (the diagonal of the pattern)."
    ),
    "head_roles.entropy": "entropy (bits)",
    "head_roles.entropy.definition": (
        "Mean Shannon entropy of the head's rows: low for a head that looks at one token, high "
        "for one that spreads its attention."
    ),
    "head_roles.induction": "induction",
    "head_roles.induction.definition": (
        "On {n} random tokens followed by the same {n} again: mean weight a token of the second "
        "half puts on the token that followed its earlier occurrence. Such heads let a model "
        "continue a pattern it has seen once."
    ),
    "head_roles.minimum": "Only heads scoring at least",
    "head_roles.count": (
        "{passing} of {total} heads score at least that (the list shows the first {shown})."
    ),
    "head_roles.excluded": "The first token can only attend to itself, so it is left out.",
    "head_roles.computing": (
        "Running the model over a random sequence repeated once, for the induction scores…"
    ),
    # ------------------------------------------------------------------ heatmaps as text
    "matrix.label": "{name}: a heatmap of {rows} × {cols} values; hover or tap a cell to read it",
    "matrix.table.show": "Show the numbers",
    "matrix.table.hide": "Hide the numbers",
    "matrix.table.page": "{name}: columns {first}–{last} of {total}",
    "matrix.table.previous": "Previous columns",
    "matrix.table.next": "Next columns",
}

MESSAGES: dict[str, dict[str, str]] = {"en": EN, "zh-CN": ZH}
LOCALE_NAMES = {"en": "English", "zh-CN": "简体中文"}  # each in its own language, for the switch
# Digit grouping and decimal mark per locale: Simplified Chinese writes numbers as English does.
SEPARATORS = {"en": (",", "."), "zh-CN": (",", ".")}


def locale_of(tag: str) -> str | None:
    """The locale the page has for a language tag (a browser's, or a link's lang=): any zh-*
    reads Simplified Chinese, any en-* English; None for another language."""
    return {"zh": "zh-CN", "en": "en"}.get(tag.lower().split("-")[0])


def choose_locale(remembered: str | None, languages: list[str]) -> str:
    """The locale to show: the one the student chose before, if we have it; else the first of
    the browser's languages we have (locale_of); else English."""
    if remembered in MESSAGES:
        return remembered
    for language in languages:
        locale = locale_of(language)
        if locale is not None:
            return locale
    return "en"


def format_number(x: float, locale: str, digits: int = 3, *, percent: bool = False) -> str:
    """x with `digits` decimals (or as a percentage, x=0.25 -> 25.0% with digits=1), grouped
    and with the decimal mark of `locale`."""
    group, decimal = SEPARATORS[locale]
    shown = f"{100 * x if percent else x:,.{digits}f}"
    shown = shown.translate(str.maketrans({",": group, ".": decimal}))  # at once, not in turn
    return shown + ("%" if percent else "")


def described(error: Exception) -> str:
    """An error as the status line shows it: "TypeName: message" (the traceback goes to the
    console)."""
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def text(key: str, locale: str = "en", **values) -> str:
    """The message `key` in `locale`, its {placeholders} filled from `values` (extra values are
    ignored, so one dict can fill a title and a body). KeyError names what is missing."""
    if locale not in MESSAGES:
        raise KeyError(f"no messages for locale {locale!r} (have: {', '.join(MESSAGES)})")
    try:
        template = MESSAGES[locale][key]
    except KeyError:
        raise KeyError(f"no message {key!r} in locale {locale!r}") from None
    try:
        return template.format(**values)
    except KeyError as e:
        raise KeyError(f"message {key!r} needs a value for {e.args[0]!r}") from None
