"""Simplified Chinese (zh-CN) catalogue: the same keys and {placeholders} as `EN` in
messages.py, for students. Code names (ln_1, c_proj, wte, Q/K/V, GELU, softmax, top-k, top-p)
and notation stay as they are; pure-notation formulas are identical to English. The example
prompts stay English because the model only reads English well."""

from __future__ import annotations

ZH: dict[str, str] = {
    # ------------------------------------------------------------------ page chrome
    "ui.title": "GPT-2 是怎样挑选下一个词的？",
    "ui.lede": (
        "输入一段文字。一个真正的 GPT-2 式模型会在这个浏览器标签页里用 Python 对它运行："
        "没有服务器，任何数据都不会离开本页面。"
    ),
    "ui.prompt_label": "你的文字",
    "ui.run": "运行模型",
    "ui.generate": "生成一个词元",
    "ui.generate_many": "生成",
    "ui.generate_count": "要生成多少个词元（1 到 50）",
    "ui.generate_tokens": "个词元",
    "ui.stop_generate": "停止",
    "ui.generate_count_range": "生成：{value!r} 不是 1 到 50 之间的整数",
    "ui.generate_drawn": (
        "第 {k} / {n} 个词元：采样从上面的条形中抽到 {label}（{probability}）；"
        "模型再运行一次，只处理这个词元，借助键/值缓存。"
    ),
    "ui.generate_drawn_unlisted": (
        "第 {k} / {n} 个词元：采样抽到 {label}（{probability}），不在所显示的条形之中；"
        "模型再运行一次，只处理这个词元，借助键/值缓存。"
    ),
    "ui.generate_done": "已生成 {k} 个词元，每个都从当时的条形中抽取。",
    "ui.generate_stopped": "在 {n} 个词元中生成了 {k} 个后停止。",
    "ui.context_full": (
        "上下文已满（{n_positions} 个词元）：生成在 {n} 个词元中的第 {k} 个之后停止。"
    ),
    "ui.status": "状态：",
    "ui.status.loading": "加载中",
    "ui.status.starting_model": "加载中：正在启动模型",
    "ui.status.running": "运行中",
    "ui.status.ready": "就绪",
    "ui.download_progress": "{name}：已下载 {received_mb:.1f} / {total_mb:.1f} MB",
    "ui.model_info": (
        "{name}：GPT-2，{n_layer} 层，{n_head} 个注意力头，d={n_embd}，"
        "{parameters_m:.1f}M 个参数，{quantization} 权重，上下文 {n_positions} 个词元"
    ),
    "ui.model_fidelity": (
        "{quantization} 与 float32 在 {positions} 个留出词元上对比：最可能的词元 {top1:.1%} "
        "相同，平均 KL {kl:.4f} nats，困惑度 {perplexity:.1f}（float32 {perplexity_fp32:.1f}）"
    ),
    "ui.model_perplexity": "留出集困惑度 {perplexity:.0f}（一元语法基线 {baseline:.0f}）",
    "ui.running_on": "运行于 {backend}",
    "ui.tokens_heading": "词元",
    "ui.token_title": "位置 {position}，id {token_id}",
    "ui.token_span": "字符 {start}-{end}",
    "ui.token_generated": "已生成",
    "ui.token_prefix": "每段文字之前都会读入：模型训练时就以 {label} 开头",
    "ui.token_detail_hint": "轻触或点击一个词元，在这里查看它的字节和 id。",
    # ------------------------------------------------------------------ 词元读作字符
    "chars.bytes": "字节 {hex}",
    "chars.part": "“{label}”的第 {part} 部分（共 {parts} 部分）",
    "chars.group_title": "“{label}”（{code_points}）：{parts} 个词元，id {ids}",
    "chars.completes": "补全“{character}”：前面是 {before}，再加 {hex}",
    "chars.leaves_unfinished": "文本末尾未完成的字符（{hex}）仍不完整",
    "chars.first_byte": "一个字符的第一个字节（共 {needed} 个字节）",
    "chars.first_bytes": "一个字符 {needed} 个字节中的前 {have} 个",
    "chars.incomplete": "不完整的字符：只有其 {needed} 个字节中的 {have} 个",
    "chars.stray": "字节 {hex} 不属于任何字符",
    "ui.cache_info": (
        "{n_tokens} 个词元；键/值缓存保存了 {cached} 个位置（上一步新计算了 {new} 个）"
    ),
    "ui.output_heading": "下一个词元：整个词表上的概率",
    "ui.temperature": "温度",
    "ui.top_k": "Top-k",
    "ui.top_p": "Top-p",
    "ui.seed": "随机种子",
    "ui.settings_note": (
        "温度为 0 时总是选概率最高的词元；top-k 为 0、top-p 为 1 时保留所有词元。"
        "条形图显示经过这些设置后采样所依据的概率。"
    ),
    "ui.attention_check": (
        "核对：在此用 float64 的 numpy 根据模型的 Q、K、V 重新计算注意力（分数、缩放、因果掩码、"
        "softmax、加权求和值），在每个块、每个注意力头、本次计算 {tokens} 个位置中的 {positions} 个"
        "（第一个、最后一个及其间均匀分布的位置）上，与模型自身 float32 的注意力头输出相差不超过 "
        "{difference:.1e}。"
    ),
    "ui.layer": "块",
    "ui.head": "注意力头",
    "ui.position": "词元",
    "ui.layer_norm_choice": "层归一化",
    "ui.back_to_overview": "返回总览",
    "ui.tour.start": "引导游览",
    "ui.tour.previous": "上一步",
    "ui.tour.next": "下一步",
    "ui.tour.close": "关闭引导",
    "ui.tour.progress": "第 {step} 步，共 {steps} 步",
    "ui.page_title": "pyexplainer：GPT-2 如何预测下一个词元",
    "ui.language": "语言",
    "ui.examples_label": "示例文字",
    "ui.tour.keys": "用方向键在引导中前后移动，按 Esc 关闭。点“引导游览”会从你离开的地方继续。",
    "ui.save_png": "保存为 PNG",
    "ui.save_svg": "保存为 SVG",
    "ui.copy_link": "复制链接",
    "ui.sankey_label": "数据流经模型的过程",
    "ui.stages": "阶段",
    "ui.click_to_append": "点击一个词元，亲手把它接到文字后面。",
    "ui.predictions_label": "最可能的下一个词元",
    "ui.recompute": "不用缓存重新计算",
    "ui.weights_int8": (
        "权重以 {quantization} 下载，在内存中保持为 8 位整数，与 8 位激活值做整数矩阵乘法"
    ),
    "ui.weights_gpu": "权重在 GPU 内存中保持 {quantization}",
    "ui.new_version": "本网站有新版本了。",
    "ui.reload": "重新加载",
    "ui.backend_wasm": "WebAssembly，{threads} 个线程",
    "ui.single_threaded": "单线程：页面没有跨源隔离",
    "ui.load_failed": "无法加载模型：{error}",
    "ui.threshold": "阈值",
    "ui.not_a_number": "{setting}：{value!r} 不是数字",
    "ui.threshold_range": "阈值：请输入 0 到 1 之间的数",
    "ui.list_separator": "，",
    "ui.no_webgpu": "此浏览器没有 WebGPU",
    "ui.webgpu_failed": "WebGPU 启动失败：“{error}”",
    "ui.backend_note": "{backend}（{note}）",
    "embedding.row": "{label}（id {token_id}，位置 {position}）",
    "where.attention": "块 {layer}，注意力头 {head}，查询 {query!r}",
    "where.mlp": "块 {layer}，{label!r}",
    "where.layernorm": "{which}，块 {layer}，{label!r}",
    "ui.facts_separator": "；",
    # ------------------------------------------------------------------ the model picker
    "ui.status.choose_model": "等待：请在上方选择一个模型",
    "ui.model_from_disk": "从你的磁盘打开（文件夹 {folder}），并非来自本网站",
    "ui.link_model_missing": (
        "此链接要求的模型“{model}”本网站没有（网站上有：{models}）：现在运行的是 {running}。"
    ),
    "models.summary": "模型：",
    "models.heading": "模型：选择一个，或从你的磁盘打开一个",
    "models.list_label": "本网站的模型",
    "models.facts": (
        "{n_layer} 层，{n_head} 个注意力头，d={n_embd}，{parameters_m:.1f}M 个参数，"
        "{quantization} 权重，上下文 {n_positions} 个词元"
    ),
    "models.running": "正在运行",
    "models.stored": "已存储供离线使用（{mb:.1f} MB）：无需下载即可打开",
    "models.download": "需下载 {mb:.1f} MB",
    "models.use": "使用这个模型",
    "models.use_label": "使用模型 {model}",
    "models.training.sources": (
        "由本项目在 {sources} 个开放许可的英文文本来源上训练（{tokens_m:.1f}M 个词元；"
        "训练中共见过 {seen_m:.1f}M 个）"
    ),
    "models.training.webtext": "由 OpenAI 在 WebText（约 800 万个网页）上训练；发布为 {hub_id}",
    "models.training.openwebtext": (
        "由 Hugging Face 在 OpenWebText 上从 GPT-2 蒸馏而来；发布为 {hub_id}"
    ),
    "models.training.cluecorpussmall": (
        "由 UER（腾讯）在 CLUECorpusSmall（约 14 GB 中文文本）上训练，词表以汉字为单位；"
        "发布为 {hub_id}"
    ),
    "models.open_folder": "打开一个导出的模型文件夹…",
    "models.drop": (
        "…或把文件夹（或其中的文件）拖放到本页任意位置。不会上传任何内容：文件在本标签页内读取，"
        "并像本网站自己的模型一样按清单核对（大小和 sha256）。"
    ),
    "models.advice.memory": (
        "{model} 在本标签页中大约需要 {estimate_gb:.1f} GB 内存，超出了这台设备"
        "（{device_gb:.0f} GB）能轻松容纳的范围。"
    ),
    "models.advice.save_data": "你的浏览器要求节省流量，而 {model} 需要下载 {mb:.1f} MB。",
    "models.advice.instead": "改用 {model}（{mb:.1f} MB）",
    "models.advice.keep": "继续使用 {model}",
    "models.advice.anyway": "仍然下载 {model}",
    "models.fell_back.memory": (
        "请求的是 {model}；它在本标签页中大约需要 {estimate_gb:.1f} GB 内存，超出了这台设备"
        "（{device_gb:.0f} GB）能轻松容纳的范围，因此改为运行 {running}。"
    ),
    "models.fell_back.save_data": (
        "请求的是 {model}；您的浏览器要求节省流量，而它需要下载 {mb:.1f} MB，"
        "因此改为运行 {running}。"
    ),
    "models.not_opened": "没有打开 {name}（{error}）；{running} 继续运行。",
    "models.folder_not_opened": "没有打开该文件夹（{error}）；{running} 继续运行。",
    "models.view_missing": (
        "{model} 没有 {part}（{n_layer} 个块，每块 {n_head} 个注意力头）：已改为打开嵌入视图。"
    ),
    "models.download_broken": "{file} 的下载中途断开了。不完整的部分没有保留：点“重试”重新下载。",
    "models.retry": "重试",
    # ------------------------------------------------------------------ storage for offline use
    "storage.measuring": "正在测量本网站在这台设备上保存了多少内容……",
    "storage.stored": (
        "{model} 已存好，可离线使用：本网站在这台设备上占用 {mb:.1f} MB（{files} 个文件）。"
    ),
    "storage.storing": (
        "正在存储 {model} 供离线使用：目前已在这台设备上存了 {mb:.1f} MB（{files} 个文件）。"
    ),
    "storage.kept": "本网站在这台设备上占用 {mb:.1f} MB（{files} 个文件）。",
    "storage.summary_warning": "⚠ 无法离线使用",
    "storage.refused": (
        "这台设备无法离线使用：浏览器拒绝存储 {count} 个文件，其中有 {file}（{error}）。"
        "页面照常从网络运行；以后在空间足够时再访问，就会存好。"
        "本网站在这里占用 {mb:.1f} MB（{files} 个文件）。"
    ),
    "storage.no_worker": (
        "这个浏览器窗口无法离线使用（这里没有运行 service worker：可能是隐私窗口，"
        "或网站存储已关闭）；页面照常从网络运行。"
    ),
    "storage.freed": (
        "已释放 {freed_mb:.1f} MB：这台设备现在不再保存本网站的任何内容。页面继续运行；"
        "下次访问会重新下载，需要联网。"
    ),
    "storage.quota": "浏览器允许本网站使用 {quota_mb:,.0f} MB。",
    "storage.free": "释放这些空间",
    # ------------------------------------------------------------------ overview
    "overview.title": "一眼看全整个模型",
    "overview.legend": (
        "每个方框是模型的一个步骤，每条带子是在步骤之间传递的向量。大小都是根据你的文字算出的"
        "真实数值：多数是各词元向量的平均长度（L2 范数）；每个方框都注明了它的大小表示什么。"
        "笔直的带子是残差流；每个块从残差流分出，经过层归一化进入注意力或 MLP，再把结果加回去。"
        "点击方框即可打开该步骤。"
    ),
    "overview.node.tokens": "词元",
    "overview.node.token_embedding": "词元嵌入",
    "overview.node.position_embedding": "位置嵌入",
    "overview.node.embedding": "嵌入（求和）",
    "overview.node.ln1": "层归一化 1，块 {layer}",
    "overview.node.attention": "注意力，块 {layer}",
    "overview.node.attention_add": "相加，块 {layer}",
    "overview.node.ln2": "层归一化 2，块 {layer}",
    "overview.node.mlp": "MLP，块 {layer}",
    "overview.node.mlp_add": "相加，块 {layer}",
    "overview.node.ln_f": "最终层归一化",
    "overview.node.logits": "Logits",
    "overview.node.probabilities": "概率",
    "overview.node.attribution": "哪些部分写出了它",
    # ------------------------------------------------------------------ explanations
    "explain.embedding": (
        "每个词元 id 从词元嵌入矩阵（wte）中取出一行：一个模型在训练中学到的数字向量。"
        "注意力本身看不到词序，所以第二个学到的矩阵（wpe）为每个位置 0, 1, 2, ... 各存一个向"
        "量。两个向量相加；它们的和就是该词元残差流的起点。"
    ),
    "explain.residual": (
        "每个词元从嵌入一直到输出都保有一个向量，即残差流。每个块读取它（先经过层归一化），"
        "计算出一些东西，再把结果加回去：先是注意力的输出，然后是 MLP 的输出。"
        "没有任何东西被覆盖，只有相加。"
    ),
    "explain.layernorm": (
        "层归一化对一个词元的向量重新缩放：减去其各个数的均值，再除以它们的标准差（方差加上一"
        "个很小的 epsilon 后开平方根），使它们的均值为 0、标准差约为 1。"
        "然后每个数乘以它自己学到的缩放系数（gain），再加上学到的偏置（bias）。"
        "GPT-2 在注意力之前（ln_1）和 MLP 之前（ln_2）各做一次，在最后一个块之后（ln_f）"
        "再做一次。"
    ),
    "explain.attention": (
        "掩码自注意力让每个词元从它之前的词元那里获取信息。一个线性层（c_attn）"
        "从每个词元经过层归一化的向量生成三个向量：查询（query，这个词元在寻找什么）、键（key，"
        "一个标签：这个词元凭什么被找到）和值（value，这个词元被关注时传递出去的内容）。"
    ),
    "explain.attention.lines": (
        "注意力连线：每条线从左边的词元连到它关注的右边词元，每个显示的头一条线，"
        "用该头的颜色和虚线样式。该头的注意力权重 w 越大，线越粗、越不透明："
        "宽度 {min_width:g} + ({max_width:g} − {min_width:g}) × w 像素，"
        "不透明度 {min_opacity:g} + (1 − {min_opacity:g}) × w。"
        "指向、轻触或聚焦左边的词元可看到它的连线；点击或按回车可在所有视图中跟随它；"
        "方向键在词元之间移动。长文本可以滚动；超过 {max_lines} 条线时，"
        "每个头只画最强的连线，其余的在下方计数。"
    ),
    "explain.attention.grid": (
        "每个小方格是一个注意力头：行 = 发出关注的词元，列 = 被关注的词元，颜色越深权重越大。"
        "对角线上方的空白三角形就是因果掩码。"
    ),
    "explain.mlp": (
        "MLP（前馈层）对每个词元单独处理。一个线性层（c_fc）把向量扩展到 4 倍大小，"
        "对其中每个数应用 GELU，第二个线性层（c_proj）再把它变回残差流的大小。"
        "结果被加到残差流上。"
    ),
    "explain.final_norm": "在最后一个块之后，对每个词元的残差流再做一次最终层归一化（ln_f）。",
    "explain.logits": (
        "输出层复用词元嵌入矩阵（权重共享）：词表中每个词元的 logit 是最后一个词元的最终向量"
        "与该词元嵌入行的点积。词表中每个词元对应一个数；预测下一个词元只需要最后一个词元的 "
        "logits。"
    ),
    "explain.softmax": (
        "在整个词表上做 softmax，把 logits 变成概率：对每个 logit 取 e 的该次幂，"
        "再除以词表中所有词元上这些值的总和。"
    ),
    "output.rest": "词表其余部分（{count} 个词元）",
    "output.cut": "被设置剔除",
    "output.kept": "{vocab_size} 个词元中有 {kept} 个可被抽中",
    "mlp.off_share": (
        "{units} 个隐藏单元中有 {off_share:.0%} 低于 {off_below:g}（被关闭）；"
        "{negative_share:.0%} 为负数。"
    ),
    # ------------------------------------------------------------------ formulas
    "attention.formula.scores": "scores = q · kᵀ",
    "attention.formula.scale": "scaled = scores × 1/√d_head",
    "attention.formula.mask": "若键的位置 ≤ 查询的位置，masked = scaled，否则为 −∞",
    "attention.formula.softmax": "weights = softmax(masked) = e^masked / Σ e^masked",
    "attention.formula.weighted_sum": "头输出 = weights · V = Σⱼ weightⱼ vⱼ",
    "attention.formula.merge": "merged = [头 0 | 头 1 | … | 头 H−1]",
    "attention.formula.projection": "注意力输出 = merged · W_proj + b_proj",
    "attention.formula.residual": "x_mid = x + 注意力输出",
    "mlp.formula.gelu": "GELU(x) = 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))",
    "output.formula.logits": "logits = ln_f(x) · wteᵀ",
    "output.formula.softmax": "p = softmax(logits / temperature)",
    # ------------------------------------------------------------------ guided tour
    "tour.autoregression.title": "一次一个词元",
    "tour.autoregression.body": (
        "模型读完了 {n_tokens} 个词元，并为词表中的每个词元给出它接下来出现的概率。"
        "它最看好的是“{top_label}”，概率 {top_probability:.1%}。选一个词元，接到末尾，"
        "再运行一次：GPT-2 就是这样写作的。"
    ),
    "tour.tokens.title": "文字变成词元",
    "tour.tokens.body": (
        "你的文字由 {n_tokens} 个词元组成，词表共有 {vocab_size} 个词元。"
        "第一个是“{first_label}”（id {first_id}）；最后一个是“{last_label}”（id {last_id}）。"
    ),
    "tour.tokens.body_prefix": (
        "模型读入 {n_tokens} 个词元，词表共有 {vocab_size} 个词元：先是“{first_label}”"
        "（id {first_id}），它不来自你的文字（模型训练时每段文字之前都有它），然后是你的文字的 "
        "{n_text} 个词元；最后一个是“{last_label}”（id {last_id}）。"
    ),
    "tour.token_embedding.title": "每个词元变成一个向量",
    "tour.token_embedding.body": (
        "词元 id {last_id}（“{last_label}”）取出词元嵌入矩阵的第 {last_id} 行："
        "{n_embd} 个在训练中学到的数。第一个数是 {first_value:.3f}；向量的长度是 {norm:.2f}。"
    ),
    "tour.position_embedding.title": "位置很重要",
    "tour.position_embedding.body": (
        "注意力本身看不到顺序，所以模型为每个位置加上一个学到的向量。"
        "“{last_label}”位于位置 {position}；该位置的向量以 {first_value:.3f} 开头，"
        "长度为 {norm:.2f}。"
    ),
    "tour.embedding_sum.title": "残差流从这里开始",
    "tour.embedding_sum.body": (
        "词元向量 + 位置向量 = “{last_label}”的残差流，长度为 {norm:.2f}。"
        "每个词元都带着这样一个向量，一直走到输出。"
    ),
    "tour.blocks.title": "{n_layer} 个块，一个接一个",
    "tour.blocks.body": (
        "残差流依次经过 {n_layer} 个结构相同的块（各有自己的权重）。每个块先是层归一化、"
        "掩码自注意力和一次相加，然后是层归一化、MLP 和一次相加。"
    ),
    "tour.layer_norm.title": "层归一化",
    "tour.layer_norm.body": (
        "在块 0 的注意力之前，“{last_label}”的 {n_embd} 个数的均值为 {mean:.3f}，"
        "标准差为 {std:.3f}。层归一化减去均值、除以标准差，再对每个数应用学到的缩放和平移。"
    ),
    "tour.qkv.title": "查询、键、值",
    "tour.qkv.body": (
        "块从每个词元生成一个查询（我在找什么？）、一个键（我能提供什么？）"
        "和一个值（我传递什么？），每个都拆成 {n_head} 个头，每头 {d_head} 个数（{n_head} × "
        "{d_head} = {n_embd}）。"
    ),
    "tour.scores.title": "点积",
    "tour.scores.body": (
        "在块 0 的头 0 中，“{query_label}”的查询乘以“{key_label}”的键，得到分数 {score:.3f}。"
        "它可以关注的每个词元都对应一个分数。"
    ),
    "tour.scale.title": "缩放",
    "tour.scale.body": (
        "每个分数乘以 1/√{d_head} = {scale:.4f}，于是 {score:.3f} 变成 {scaled:.3f}。"
        "这样分数就不会随头的大小而增长。"
    ),
    "tour.mask.title": "不许偷看后面",
    "tour.mask.body": (
        "位于位置 {position} 的“{query_label}”可以关注 {allowed} 个词元：它自己和它之前的词元。"
        "在这一步的 {cells} 个查询-键对中，有 {masked} 个被掩码（设为 −∞），"
        "因为键比查询出现得晚。"
    ),
    "tour.softmax.title": "Softmax：分数变成权重",
    "tour.softmax.body": (
        "Softmax 把分数变成总和为 1 的权重。块 0 的头 0 让“{query_label}”把最大的权重 "
        "{weight:.1%} 放在“{key_label}”上。"
    ),
    "tour.weighted_sum.title": "值的加权和",
    "tour.weighted_sum.body": (
        "该注意力头对“{query_label}”的输出，就是按这些权重对值向量加权求和：{d_head} 个数，"
        "长度 {norm:.2f}。"
    ),
    "tour.merge_projection.title": "合并各头并投影",
    "tour.merge_projection.body": (
        "{n_head} 个头的输出被拼接回 {n_embd} 个数，再由一个学到的投影（c_proj）混合。"
        "“{query_label}”的注意力输出长度为 {norm:.2f}。"
    ),
    "tour.residual_add.title": "加到残差流上",
    "tour.residual_add.body": (
        "注意力输出（长度 {added:.2f}）被加到“{label}”的残差流（长度 {before:.2f}）上："
        "残差流现在的长度为 {after:.2f}。"
    ),
    "tour.mlp.title": "MLP（多层感知机）",
    "tour.mlp.body": (
        "经过第二个层归一化后，MLP 把每个词元的 {n_embd} 个数扩展到 {units} 个（4 倍），"
        "应用 GELU，再投影回 {n_embd} 个。它对“{label}”的输出长度为 {norm:.2f}，"
        "并被加到残差流上。"
    ),
    "tour.gelu.title": "GELU 关闭部分单元",
    "tour.gelu.body": (
        "GELU 保留正数，把负数压向 0。对块 0 中的“{label}”，"
        "{units} 个隐藏单元中有 {off_share:.0%} 低于 {off_below:g}，在那里 GELU 的输出几乎为 "
        "0。"
    ),
    "tour.deeper.title": "一块接一块",
    "tour.deeper.body": (
        "每个块都会往残差流上加东西。“{label}”的残差流长度从进入块 0 时的 {first:.2f} 变为块 "
        "{last_layer} 之后的 {last:.2f}。"
    ),
    "tour.final_norm.title": "最终层归一化",
    "tour.final_norm.body": (
        "在最后一个块之后，还有一次层归一化：“{label}”的残差流在被归一化、缩放和平移之前，"
        "均值为 {mean:.3f}，标准差为 {std:.3f}。"
    ),
    "tour.logits.title": "借助权重共享得到 logits",
    "tour.logits.body": (
        "最后一个词元的最终向量与词元嵌入矩阵的每一行相乘，这正是当初用来嵌入词元的同一个矩阵："
        "得到 {vocab_size} 个 logits，每个词元一个。最大的是 {top_logit:.2f}，"
        "属于“{top_label}”。"
    ),
    "tour.softmax_output.title": "整个词表上的概率",
    "tour.softmax_output.body": (
        "对全部 {vocab_size} 个 logits 做 softmax：“{top_label}”得到 {top_probability:.1%}，"
        "“{second_label}”得到 {second_probability:.1%}。"
    ),
    "tour.sampling.title": "温度、top-k、top-p",
    "tour.sampling.body": (
        "在温度 {temperature:g}、top-k {top_k}、top-p {top_p:g} 下，有 {kept} 个词元可被抽中，"
        "“{top_label}”的概率为 {top_probability:.1%}。改变设置，看看条形图如何变化。"
    ),
    "tour.generation.title": "生成，复用键/值缓存",
    "tour.generation.body": (
        "键/值缓存现在保存着 {n_layer} 个块、{n_head} 个头中每一个的 {cached} 个位置的键和值。"
        "下一步只运行新词元，它的查询会关注所有这些位置。"
    ),
    "tour.attribution.title": "哪些部分写出了“{top_label}”？",
    "tour.attribution.body": (
        "“{top_label}”的 logit {top_logit:.2f} 等于最终层归一化的输出乘以该词元在输出层中的那一行。"
        "这个输出来自残差流：它是 {n_parts} 个部分（嵌入、每个头、每个注意力偏置、每个 MLP）之和，"
        "减去均值后除以标准差，这里是 {std:.3f}。把 {std:.3f} 固定不变，logit 就恰好分解为每个部分"
        "一个数：归因阶段把它们排了序。"
    ),
    # ------------------------------------------------------------------ detail views
    "stage.embedding": "嵌入",
    "stage.attention": "注意力",
    "stage.layernorm": "层归一化",
    "stage.mlp": "MLP",
    "stage.residual": "残差流",
    "stage.output": "输出",
    "stage.heads": "注意力头的角色",
    "stage.lens": "Logit 透镜",
    "stage.whatif": "假如？",
    "stage.attribution": "归因",
    # ------------------------------------------------------------------ logit lens
    "lens.heading": "Logit 透镜：如果模型提前停下，它会预测什么",
    "lens.explanation": (
        "把残差流的每一行（从嵌入到最后一个块）都当作最后一层来读出：经过最终层归一化和输出层"
        "（与词元嵌入共享权重），再做 softmax。每个格子显示该深度、该位置上最可能的下一个词元及其"
        "概率；悬停或轻触可看前五名。最下面一行就是模型真正的预测。沿一列往下看，可以看到模型在第几个块"
        "确定了答案。"
    ),
    "lens.caption": "每个深度（行）和位置（列）上概率最高的下一个词元",
    "lens.corner": "深度 \\ 词元",
    "lens.depth_embeddings": "嵌入",
    "lens.depth_block": "第 {block} 块之后",
    "lens.depth_final": "第 {block} 块之后（输出）",
    "lens.where": "{depth}，词元 {token}",
    "lens.cell_title": "{where}：最可能的下一个词元\n{ranked}",
    "lens.legend": "蓝色越深，概率越高。带边框：最高的词元正是你的文本中真正的下一个词元。",
    "lens.settled": "在最后一个位置，最终答案“{label}”从这个深度起一直排第一：{depth}。",
    "lens.last_positions": "表格显示你的 {total} 个词元中的最后 {shown} 个。",
    "lens.computing": "正在重新运行模型，用 logit 透镜读出每一行……",
    # ------------------------------------------------------------------ attribution
    "attribution.heading": "归因：模型的哪些部分写出了这个词元的 logit",
    "attribution.explanation": (
        "最后一个块之后，最后一个位置上的残差流是若干部分之和：嵌入、每个注意力头写入的内容"
        "（它的输出乘以该块输出矩阵中属于它的那几行）、每个块的注意力偏置，以及每个 MLP 的"
        "输出。最终层归一化减去均值并除以标准差 σ。把 σ 固定为模型对这段文本算出的值，层归一化"
        "就是线性的，于是这个词元的 logit 恰好分解为每个部分一个数，再加上层归一化的平移："
        "((部分 − 其均值) / σ × 增益) · 该词元在输出层中的那一行。正的部分把这个词元往上推，"
        "负的往下压。只对这一输入精确：换一段文本，σ 就不同。"
    ),
    "attribution.computing": "正在重新运行最后一个词元，读取每个部分写入的内容…",
    "attribution.target": "词元",
    "attribution.other": "对比",
    "attribution.no_other": "（无：只看它自己的 logit）",
    "attribution.filter": "显示",
    "attribution.filter_all": "所有部分",
    "attribution.filter_heads": "只看注意力头",
    "attribution.filter_mlps": "只看 MLP",
    "attribution.top": "显示个数",
    "attribution.typed": "或输入一个",
    "attribution.not_one_token": "“{typed}”在本模型的词表中是 {count} 个词元：请输入一个词元。",
    "attribution.part_embed": "嵌入",
    "attribution.part_head": "第 {block} 块，第 {head} 个头",
    "attribution.part_attn_bias": "第 {block} 块，注意力偏置",
    "attribution.part_mlp": "第 {block} 块，MLP",
    "attribution.part_lnf_bias": "最终层归一化的平移",
    "attribution.named": "{part} 给“{token}”的 logit 加了 {value}。",
    "attribution.named_difference": "{part} 让“{token}”比“{other}”多了 {value}。",
    "attribution.bar_title": "{part}：{value:+.7g}（logit 单位）",
    "attribution.shown": "按大小显示 {total} 个部分中最大的 {shown} 个。",
    "attribution.blocks_caption": "每个块各部分之和（嵌入单独为 {embed}）：哪一层决定了结果。",
    "attribution.block_title": "第 {block} 块：{value:+.4g}",
    "attribution.lens_pending": (
        "Logit 透镜在每个块之后直接读取残差流：打开它，看看“{token}”从哪个块起排在首位。"
    ),
    "attribution.lens_settled": (
        "Logit 透镜在每个块之后直接读取残差流，从第 {block} 块起“{token}”一直排在首位（图下的 ●）。"
    ),
    "attribution.lens_never": (
        "Logit 透镜最后并不落在“{token}”上：最后一个块之后，它的首位是另一个词元。"
    ),
    "attribution.open_lens": "打开 Logit 透镜",
    "attribution.check": (
        "各部分加上平移共计 {total}；模型自己的输出层给出 {logit}（差 {difference}）。"
    ),
    "attribution.int8_note": (
        "在 WebAssembly 上，输出层先把输入取整为 8 位再相乘，这一步对各部分不是线性的："
        "差值就是这次取整。"
    ),
    # ------------------------------------------------------------------ what-if ablation
    "whatif.heading": "假如？关闭注意力头或 MLP",
    "whatif.explanation": (
        "勾选任意注意力头和 MLP，然后运行：模型会在关闭它们的情况下对你的整段文本重新运行，新的"
        "预测显示在真实预测旁边。置零消融去掉该部分的输出；均值消融用它在你文本各位置上的平均值"
        "代替，保留其典型大小，只去掉随词元变化的部分。注意力头在输出投影之前被关闭，投影的偏置保留；"
        "MLP 则连同偏置一起关闭。"
    ),
    "whatif.switches": "要关闭的部分（勾选 = 关闭）",
    "whatif.head": "头 {head}",
    "whatif.head_switch": "关闭第 {layer} 块的头 {head}",
    "whatif.mlp_switch": "关闭第 {layer} 块的 MLP",
    "whatif.mode": "消融方式",
    "whatif.mode.zero": "置零：输出换成零",
    "whatif.mode.mean": "均值：输出换成它在各位置上的平均值",
    "whatif.run": "关闭这些部分后运行",
    "whatif.clear": "全部重新打开",
    "whatif.head_name": "第 {layer} 块的头 {head}",
    "whatif.mlp_name": "第 {layer} 块的 MLP",
    "whatif.nothing_off": "没有关闭任何部分：模型保持原样。",
    "whatif.off": "已关闭：{parts}（{mode}）。",
    "whatif.top_change": "最高词元“{label}”：{before} → {after}（{change} 个百分点）。",
    "whatif.top_changed": "最可能的下一个词元变了。",
    "whatif.top_kept": "最可能的下一个词元没有变。",
    "whatif.kl": "新分布相对真实分布的 KL 散度：{kl} 奈特。",
    "whatif.before": "真实预测",
    "whatif.after": "关闭这些部分之后",
    "whatif.was": "（原为 {before}）",
    "ui.link_copied": "链接已复制：打开它会显示这个视图，以及这段文字和这些设置。",
    "ui.link_view_missing": (
        "此链接要求的 {part} 在这个模型（{n_layer} 个块，每块 {n_head} 个注意力头）中不存在："
        "已改为打开嵌入视图。"
    ),
    "ui.link_value_unused": (
        "此链接给出的 {parameter}={value} 无法使用（{parameter} 应为{expected}）：已改用默认值。"
    ),
    "link.expected.prompt": "至少一个字符的文字；默认是页面自己的文字",
    "link.expected.view": "一个视图，例如 attention,2",
    "link.expected.head": "一个整数",
    "link.expected.token": "一个整数",
    "link.expected.t": "大于或等于 0 的数，0 表示总是选最可能的词元",
    "link.expected.k": "大于或等于 0 的整数，0 表示关闭",
    "link.expected.p": "大于 0 且不超过 1 的数，1 表示关闭",
    "link.expected.seed": "大于或等于 0 的整数",
    "link.expected.gen": "这个模型词表中的词元 id，用逗号分隔",
    "link.expected.embed": "1（只显示视图）或 0",
    "link.expected.target": "本模型词表中的一个词元编号（从 0 开始的整数）",
    "link.expected.lang": "页面提供的一种语言：en 或 zh-CN",
    "ui.too_long": "这段文字有 {n_tokens} 个词元，超过了这个模型 {n_positions} 个词元的上下文。",
    "ui.keep_last_tokens": "保留能放进上下文的最后那些词元",
    "ui.kept_last_tokens": (
        "已保留能放进 {n_positions} 个词元上下文的最后 {kept} 个词元：文字开头的 {dropped} "
        "个词元已被丢弃。"
    ),
    "check.sum": (
        "核对：在此用 float64 相加的词元行与位置行，与模型自身 float32 的和相差不超过 "
        "{difference}（float32 约保留 7 位有效数字）。"
    ),
    "check.head": (
        "核对：在此用 float64 根据模型的 Q、K、V 重新计算的这些权重 × V，与模型自身 float32 的"
        "注意力头输出相差不超过 {difference}。"
    ),
    "check.add": (
        "核对：在此用 float64 重新计算的残差流 + 所加内容，与模型自身 float32 的下一个残差流"
        "相差不超过 {difference}。"
    ),
    "check.layernorm": (
        "核对：在此只根据输入向量（它的均值和方差、ε、gain 和 bias）用 float64 重新计算的"
        "这个层归一化，与模型自身 float32 的输出相差不超过 {difference}。"
    ),
    "check.merge": "无需核对：合并只是把模型各注意力头的输出并排放在一起（一次重排）。",
    "check.projection": (
        "未重新核对：这是模型自身的注意力输出；页面没有 c_proj 的权重，无法重新计算它。"
    ),
    "embedding.token": "词元嵌入：wte 的第 `token id` 行",
    "embedding.token.formula": "wte[token id]",
    "embedding.position": "位置嵌入：wpe 的第 `position` 行",
    "embedding.position.formula": "wpe[position]",
    "embedding.sum": "二者之和：进入块 0 的残差流",
    "embedding.sum.formula": "x₀ = wte[token id] + wpe[position]",
    "attention.grid.head": "块 {layer}，头 {head}",
    "attention.lines.head": "头 {head}",
    "attention.lines.all": "全部头",
    "attention.lines.heads": "块 {layer} 中显示连线的头",
    "attention.lines.label": "注意力连线，块 {layer}：左边是发出关注的词元，右边是被关注的词元",
    "attention.lines.token": "位置 {position} 的词元“{label}”：显示它的注意力",
    "attention.lines.pick": "“{label}”：点击、轻触或按回车，在所有视图中跟随它",
    "attention.lines.no_heads": "没有显示任何头：请在上方至少打开一个头。",
    "attention.lines.omitted": (
        "头 {head}：“{label}”最弱的 {count} 条连线没有画出；它们合计占该头注意力的 {weight:.2%}。"
    ),
    "attention.lines.table": "“{label}”的注意力权重，块 {layer}，所显示的头",
    "attention.zoom": "块 {layer}，头 {head}，放大：行 = 查询词元，列 = 键",
    "attention.step.scores": "查询与每个键的点积",
    "attention.step.scale": "缩放",
    "attention.step.mask": "因果掩码",
    "attention.step.softmax": "Softmax：注意力权重",
    "attention.step.weighted_sum": "值的加权和",
    "attention.step.merge": "合并各头",
    "attention.step.projection": "输出投影（c_proj）",
    "attention.step.residual": "残差相加",
    "attention.q": "查询 q",
    "attention.k": "键 K",
    "attention.scores": "分数",
    "attention.scaled": "缩放后的分数",
    "attention.masked": "掩码后的分数",
    "attention.weights": "注意力权重",
    "attention.v": "值 V",
    "attention.head_output": "头输出",
    "attention.merged": "所有头，拼接在一起",
    "attention.projected": "注意力输出",
    "attention.residual_before": "进入该块的残差流",
    "attention.residual_after": "注意力相加之后的残差流",
    "mlp.input": "输入：第二个层归一化的输出",
    "mlp.input.formula": "h = ln_2(x_mid)",
    "mlp.pre": "扩展到 4 × 宽度",
    "mlp.pre.formula": "a = h · W_fc + b_fc   （{width} → {hidden} 个数）",
    "mlp.gelu": "GELU",
    "mlp.gelu.curve": "GELU(x)；条形：该词元有多少个单元取各个 x 值",
    "mlp.gelu.alt": "在该词元的激活前数值上画出的 GELU 曲线，以及这些数值的直方图",
    "mlp.activated": "GELU 之后",
    "mlp.output": "投影回模型的宽度",
    "mlp.output.formula": "m = GELU(a) · W_proj + b_proj   （{hidden} → {width} 个数）",
    "mlp.residual": "残差相加",
    "mlp.residual.formula": "x_next = x_mid + m",
    "mlp.residual_before": "注意力相加之后的残差流",
    "mlp.residual_after": "离开该块的残差流",
    "mlp.check": (
        "核对：在此根据它之前的数值用 float64 重新计算的 GELU，与模型自身 float32 的 GELU 输出"
        "相差不超过 {difference}。"
    ),
    "layernorm.mean": "均值",
    "layernorm.std": "标准差",
    "layernorm.input": "输入向量",
    "layernorm.input.formula": "均值 = Σx / D,   标准差 = √(Σ(x − 均值)² / D + ε)",
    "layernorm.normalised": "归一化后",
    "layernorm.normalised.formula": "(x − 均值) / 标准差",
    "layernorm.gain": "学到的缩放（gain）和平移（bias）",
    "layernorm.gain.formula": "γ, β：在训练中学到，对每个词元都相同",
    "layernorm.bias": "偏置 β",
    "layernorm.output": "输出",
    "layernorm.output.formula": "γ × (x − 均值) / 标准差 + β",
    "residual.col.layer": "块",
    "residual.col.entering": "进入时 ‖残差流‖",
    "residual.col.attention_added": "‖注意力所加‖",
    "residual.col.after_attention": "注意力之后 ‖残差流‖",
    "residual.col.mlp_added": "‖MLP 所加‖",
    "residual.col.after_mlp": "离开时 ‖残差流‖",
    "residual.token": "词元 {token!r} 的各项大小（L2 范数）。",
    "output.bar_title": "模型概率 {probability:.2%}，logit {logit:.3f}",
    "output.rest_mass": (
        "词表其余部分：设置后为 {probability:.2%}（模型给出 {model_probability:.2%}）；"
        "{vocab_size} 个词元中有 {kept} 个可被抽中"
    ),
    "ui.examples": "选一个示例……",
    "output.recompute": (
        "不使用缓存重新计算了全部 {tokens} 个词元：logits 与使用缓存那一步的结果最多相差 "
        "{difference}。模型用时：完整计算 {full_ms:.0f} ms，使用缓存、"
        "新计算 {new} 个词元的那一步 {cached_ms:.0f} ms。"
    ),
    "output.final_norm": "最后一个词元的最终层归一化输出",
    "output.final_norm.formula": "h = ln_f(x_L)",
    "output.logits": "Logits：每个词表词元一个分数",
    "output.softmax": "在整个词表上做 softmax",
    "output.col.token": "词元",
    "output.col.id": "id",
    "output.col.logit": "logit",
    "output.col.model_probability": "模型概率",
    "output.col.probability": "设置后",
    # ------------------------------------------------------------------ analysis panels
    "interpretability.heading": "可解释性：每个注意力头有多集中？",
    "interpretability.average": "{n_head} 个头的平均值",
    "interpretability.threshold": "稀疏度指标的阈值 ",
    "interpretability.sparsity": "稀疏度",
    "interpretability.sparsity.definition": (
        "一个头可以使用的权重（因果掩码允许的那些）中低于 {threshold} 的比例：接近 1 时，"
        "这个头几乎忽略所有词元；接近 0 时，它用到了全部词元。"
    ),
    "interpretability.row_sparsity_mean": "平均行稀疏度",
    "interpretability.row_sparsity_mean.definition": (
        "对每个查询词元，计算其允许的权重中低于 {threshold} 的比例；再对所有查询词元取平均。"
    ),
    "interpretability.row_sparsity_max": "最大行稀疏度",
    "interpretability.row_sparsity_max.definition": (
        "对每个查询词元，计算其允许的权重中低于 {threshold} 的比例；取所有查询词元中的最大值。"
    ),
    "interpretability.entropy": "熵（比特）",
    "interpretability.entropy.definition": (
        "一行在允许的键上的香农熵，H = −Σ p·log₂ p：全部权重集中在一个词元上时为 0 比特，"
        "均匀分布在该行可见的 n 个词元上时为 log₂ n 比特。"
    ),
    "interpretability.kl_uniform": "与均匀分布的 KL 散度（比特）",
    "interpretability.kl_uniform.definition": (
        "一行相对于在其 n 个允许的键上均匀分布的 Kullback–Leibler 散度，KL = Σ p·log₂(p·n)："
        "均匀分布时为 0，全部权重集中在一个词元上时为 log₂ n。熵 + KL = log₂ n。"
    ),
    "debugging.heading": "调试：块 {layer} 中每个数的分布",
    "debugging.residual": "进入该块的残差流",
    "debugging.q": "头 {head} 的查询 Q",
    "debugging.k": "头 {head} 的键 K",
    "debugging.v": "头 {head} 的值 V",
    "debugging.scores": "原始分数 Q·Kᵀ（允许的格子）",
    "debugging.scaled": "缩放后的分数 Q·Kᵀ × {scale:.4f}（= 1/√d_head）",
    "debugging.weights": "softmax 之后的注意力权重（允许的格子）",
    "debugging.mlp_act": "GELU 之后的 MLP 隐藏层",
    "debugging.stats": (
        "{count} 个数：均值 {mean:.4g}，标准差 {std:.4g}，最小值 {min:.4g}，最大值 {max:.4g}"
    ),
    "head_roles.heading": "注意力头的角色：每个头倾向于做什么",
    "head_roles.ranked": "注意力头按{role}排序",
    "head_roles.head": "块 {layer}，头 {head}：{score:.3f}",
    "head_roles.previous_token": "前一个词元",
    "head_roles.previous_token.definition": (
        "一个词元放在紧挨着它的前一个词元上的平均注意力权重。"
    ),
    "head_roles.first_token": "第一个词元（汇聚点）",
    "head_roles.first_token.definition": (
        "放在第一个词元上的平均注意力权重。无事可做的头常常把注意力停放在那里，"
        "称为“注意力汇聚”（attention sink）。"
    ),
    "head_roles.self_attention": "自身",
    "head_roles.self_attention.definition": (
        "一个词元放在它自己身上的平均注意力权重（注意力图的对角线）。"
    ),
    "head_roles.entropy": "熵（比特）",
    "head_roles.entropy.definition": (
        "该头各行香农熵的平均值：只看一个词元的头熵低，注意力分散的头熵高。"
    ),
    "head_roles.induction": "归纳（induction）",
    "head_roles.induction.definition": (
        "在 {n} 个随机词元之后再接上同样的 {n} 个词元：后半段的一个词元放在“它上次出现时紧随"
        "其后的那个词元”上的平均权重。这样的头让模型能够延续一个只见过一次的模式。"
    ),
    "head_roles.minimum": "只显示得分不低于",
    "head_roles.count": "{total} 个注意力头中有 {passing} 个达到该分数（列表显示前 {shown} 个）。",
    "head_roles.excluded": "第一个词元只能关注它自己，因此不计入。",
    "head_roles.computing": "正在让模型运行一段重复一次的随机序列，以计算归纳分数……",
    # ------------------------------------------------------------------ heatmaps as text
    "matrix.label": (
        "{name}：由 {rows} × {cols} 个数值构成的热图；将指针悬停或轻触某个单元格即可读出其数值"
    ),
    "matrix.table.show": "显示数字",
    "matrix.table.hide": "隐藏数字",
    "matrix.table.page": "{name}：第 {first}–{last} 列，共 {total} 列",
    "matrix.table.previous": "前几列",
    "matrix.table.next": "后几列",
}
