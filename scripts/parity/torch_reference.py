"""Plain-PyTorch copy of Hugging Face's BertForTokenClassification.

Mirrors transformers/models/bert/modeling_bert.py (eager attention path):
same module tree, so ``named_parameters()`` yields HF's names
(``bert.embeddings.word_embeddings.weight``, ...,
``bert.encoder.layer.N.attention.self.query.weight``, ..., ``classifier.bias``),
no pooler (HF builds BertModel(add_pooling_layer=False) for token
classification), Linear weights stored [out, in] as torch does.

Used only by torch-train.py, whose --masks-from mode replaces nn.Dropout
modules to replay tokentune's dropout masks; transformers 5's BERT applies
attention dropout with nn.functional.dropout, out of that swap's reach.  The
test fixtures come from transformers itself (scripts/fixtures/make-bert-fixtures.py).
"""

import math

import torch
from torch import nn
from torch.nn import functional as F


class BertConfig:
    """The subset of transformers.BertConfig that the model reads."""

    def __init__(self, vocab_size, hidden_size, num_hidden_layers,
                 num_attention_heads, intermediate_size, id2label,
                 max_position_embeddings=512, type_vocab_size=2,
                 hidden_act="gelu", hidden_dropout_prob=0.1,
                 attention_probs_dropout_prob=0.1, classifier_dropout=None,
                 layer_norm_eps=1e-12, initializer_range=0.02, pad_token_id=0):
        if hidden_size % num_attention_heads != 0:
            raise ValueError(
                f"hidden_size {hidden_size} is not a multiple of "
                f"num_attention_heads {num_attention_heads}")
        if hidden_act not in ACTIVATIONS:
            raise ValueError(f"hidden_act {hidden_act!r} not in "
                             f"{sorted(ACTIVATIONS)}")
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.id2label = dict(id2label)
        self.num_labels = len(self.id2label)
        self.max_position_embeddings = max_position_embeddings
        self.type_vocab_size = type_vocab_size
        self.hidden_act = hidden_act
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.classifier_dropout = classifier_dropout
        self.layer_norm_eps = layer_norm_eps
        self.initializer_range = initializer_range
        self.pad_token_id = pad_token_id

    def to_hf_dict(self, transformers_version):
        """config.json content in the layout save_pretrained writes
        (keys sorted, id2label keys as strings)."""
        id2label = {str(i): lab for i, lab in sorted(self.id2label.items())}
        d = {
            "architectures": ["BertForTokenClassification"],
            "attention_probs_dropout_prob": self.attention_probs_dropout_prob,
            "classifier_dropout": self.classifier_dropout,
            "hidden_act": self.hidden_act,
            "hidden_dropout_prob": self.hidden_dropout_prob,
            "hidden_size": self.hidden_size,
            "id2label": id2label,
            "initializer_range": self.initializer_range,
            "intermediate_size": self.intermediate_size,
            "label2id": {lab: i for i, lab in sorted(self.id2label.items())},
            "layer_norm_eps": self.layer_norm_eps,
            "max_position_embeddings": self.max_position_embeddings,
            "model_type": "bert",
            "num_attention_heads": self.num_attention_heads,
            "num_hidden_layers": self.num_hidden_layers,
            "pad_token_id": self.pad_token_id,
            "position_embedding_type": "absolute",
            "torch_dtype": "float32",
            "transformers_version": transformers_version,
            "type_vocab_size": self.type_vocab_size,
            "use_cache": True,
            "vocab_size": self.vocab_size,
        }
        return dict(sorted(d.items()))


def gelu_new(x):
    # HF NewGELUActivation (tanh approximation, as in Google's BERT / GPT-2),
    # written exactly as HF writes it so rounding matches.
    return 0.5 * x * (1.0 + torch.tanh(
        math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


# HF ACT2FN entries used by BERT checkpoints. "gelu" is GELUActivation,
# i.e. the exact erf form.
ACTIVATIONS = {
    "gelu": F.gelu,
    "gelu_new": gelu_new,
    "relu": F.relu,
}


class BertEmbeddings(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.word_embeddings = nn.Embedding(
            config.vocab_size, config.hidden_size,
            padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(
            config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(
            config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size,
                                      eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        # Non-persistent buffer, as in HF >= 4.31 (not written to checkpoints).
        self.register_buffer(
            "position_ids",
            torch.arange(config.max_position_embeddings).expand((1, -1)),
            persistent=False)

    def forward(self, input_ids, token_type_ids):
        seq_length = input_ids.size(1)
        position_ids = self.position_ids[:, :seq_length]
        # HF order of additions: (word + token_type) + position.
        embeddings = (self.word_embeddings(input_ids)
                      + self.token_type_embeddings(token_type_ids))
        embeddings = embeddings + self.position_embeddings(position_ids)
        embeddings = self.LayerNorm(embeddings)
        return self.dropout(embeddings)


class BertSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = (config.hidden_size
                                    // config.num_attention_heads)
        self.all_head_size = (self.num_attention_heads
                              * self.attention_head_size)
        self.query = nn.Linear(config.hidden_size, self.all_head_size)
        self.key = nn.Linear(config.hidden_size, self.all_head_size)
        self.value = nn.Linear(config.hidden_size, self.all_head_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def transpose_for_scores(self, x):
        # [B, T, H] -> [B, heads, T, head_dim]
        new_shape = x.size()[:-1] + (self.num_attention_heads,
                                     self.attention_head_size)
        return x.view(new_shape).permute(0, 2, 1, 3)

    def forward(self, hidden_states, extended_attention_mask):
        query_layer = self.transpose_for_scores(self.query(hidden_states))
        key_layer = self.transpose_for_scores(self.key(hidden_states))
        value_layer = self.transpose_for_scores(self.value(hidden_states))

        attention_scores = torch.matmul(query_layer,
                                        key_layer.transpose(-1, -2))
        attention_scores = attention_scores / math.sqrt(
            self.attention_head_size)
        attention_scores = attention_scores + extended_attention_mask
        attention_probs = F.softmax(attention_scores, dim=-1)
        attention_probs = self.dropout(attention_probs)

        context_layer = torch.matmul(attention_probs, value_layer)
        context_layer = context_layer.permute(0, 2, 1, 3).contiguous()
        new_shape = context_layer.size()[:-2] + (self.all_head_size,)
        return context_layer.view(new_shape)


class BertSelfOutput(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size,
                                      eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states, input_tensor):
        hidden_states = self.dropout(self.dense(hidden_states))
        return self.LayerNorm(hidden_states + input_tensor)


class BertAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertSelfOutput(config)

    def forward(self, hidden_states, extended_attention_mask):
        return self.output(self.self(hidden_states, extended_attention_mask),
                           hidden_states)


class BertIntermediate(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = ACTIVATIONS[config.hidden_act]

    def forward(self, hidden_states):
        return self.intermediate_act_fn(self.dense(hidden_states))


class BertOutput(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size,
                                      eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states, input_tensor):
        hidden_states = self.dropout(self.dense(hidden_states))
        return self.LayerNorm(hidden_states + input_tensor)


class BertLayer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(self, hidden_states, extended_attention_mask):
        attention_output = self.attention(hidden_states,
                                          extended_attention_mask)
        return self.output(self.intermediate(attention_output),
                           attention_output)


class BertEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.layer = nn.ModuleList(
            [BertLayer(config) for _ in range(config.num_hidden_layers)])

    def forward(self, hidden_states, extended_attention_mask):
        """Returns every hidden state: [embeddings, layer 0 out, ...]."""
        all_hidden = [hidden_states]
        for layer_module in self.layer:
            hidden_states = layer_module(hidden_states,
                                         extended_attention_mask)
            all_hidden.append(hidden_states)
        return all_hidden


def extended_attention_mask(attention_mask, dtype):
    """HF get_extended_attention_mask for an encoder: [B, T] 1/0 ->
    additive [B, 1, 1, T] mask, 0 where attended, finfo(dtype).min where
    masked (added to the scores of every query row and every head)."""
    extended = attention_mask[:, None, None, :].to(dtype)
    return (1.0 - extended) * torch.finfo(dtype).min


class BertModel(nn.Module):
    """BertModel(config, add_pooling_layer=False)."""

    def __init__(self, config):
        super().__init__()
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)

    def forward(self, input_ids, token_type_ids, attention_mask):
        dtype = self.embeddings.word_embeddings.weight.dtype
        mask = extended_attention_mask(attention_mask, dtype)
        hidden = self.embeddings(input_ids, token_type_ids)
        return self.encoder(hidden, mask)


class BertForTokenClassification(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.num_labels = config.num_labels
        self.bert = BertModel(config)
        classifier_dropout = (config.classifier_dropout
                              if config.classifier_dropout is not None
                              else config.hidden_dropout_prob)
        self.dropout = nn.Dropout(classifier_dropout)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        """HF BertPreTrainedModel._init_weights."""
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            module.weight.data.normal_(mean=0.0, std=std)
            if module.bias is not None:
                module.bias.data.zero_()
        elif isinstance(module, nn.Embedding):
            module.weight.data.normal_(mean=0.0, std=std)
            if module.padding_idx is not None:
                module.weight.data[module.padding_idx].zero_()
        elif isinstance(module, nn.LayerNorm):
            module.bias.data.zero_()
            module.weight.data.fill_(1.0)

    def forward(self, input_ids, token_type_ids, attention_mask, labels=None,
                class_weights=None):
        """Returns (loss or None, logits, hidden_states list).

        Loss as HF: CrossEntropyLoss() (mean over non-ignored positions,
        ignore_index=-100) over logits.view(-1, num_labels); class_weights
        is the optional CrossEntropyLoss(weight=...) (weighted mean)."""
        hidden_states = self.bert(input_ids, token_type_ids, attention_mask)
        logits = self.classifier(self.dropout(hidden_states[-1]))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.view(-1, self.num_labels),
                                   labels.view(-1), weight=class_weights,
                                   ignore_index=-100)
        return loss, logits, hidden_states


def hf_trainer_param_groups(model, weight_decay):
    """The two AdamW parameter groups HF Trainer builds: weight decay on
    everything except biases and LayerNorm weights (embeddings included)."""
    no_decay_modules = set()
    for mod_name, module in model.named_modules():
        if isinstance(module, nn.LayerNorm):
            no_decay_modules.add(mod_name)
    decay, no_decay = [], []
    decay_names, no_decay_names = [], []
    for name, p in model.named_parameters():
        mod_name = name.rsplit(".", 1)[0]
        if name.endswith("bias") or mod_name in no_decay_modules:
            no_decay.append(p)
            no_decay_names.append(name)
        else:
            decay.append(p)
            decay_names.append(name)
    groups = [{"params": decay, "weight_decay": weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return groups, decay_names, no_decay_names
