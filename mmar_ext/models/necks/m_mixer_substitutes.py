"""The substitutes M-Mixer's ablations put in place of its modules (paper
000, §IV-C1 Table I and §IV-D3 Table VI).

In place of the MCU (Table I), one per modality, same interface as
:class:`ModalityContextUnit` -- ``forward(f [B, T, d_h], g [B, C_g]) ->
h_{1:T} [B, T', d_h]`` whose last step is the stream's final feature
``h_T``:

* :class:`RecurrentSequenceEncoder` -- ``nn.LSTM`` / ``nn.GRU`` (one layer,
  hidden ``d_h``) over ``f_t`` ('LSTM', 'GRU'), or over ``[f_t || g]``
  with ``cross_modal=True`` ('+ CM': "concatenating [the content] with the
  input");
* :class:`TransformerSequenceEncoder` -- "a Transformer encoder with 4
  heads and 2 layers", a learnable class token whose output classifies. Not
  stated, our choices: pre-LN layers of :class:`TokenTransformer` with
  fixed sinusoidal positions, and a feed-forward width of ``2 d_h`` (1024):
  the only width that matches "2.4 times more parameters than MCU" (4.21M
  without CM = 2.3x the 1.84M MCU, 4.73M with CM = 2.6x; the usual 2048
  gives 3.4x). With ``cross_modal=True`` a linear map takes
  ``[f_t || g]`` to ``d_h`` first. The class token's output is returned as
  the LAST step (after the ``T`` frame outputs), so the neck's "final
  step" is the class token as the paper uses it.

In place of the multi-modal feature bank (Table VI), same interface as
:class:`MultiModalFeatureBank` -- ``forward([h^1..h^N], present=None) ->
[B, d_h]``:

* :class:`GRUFusion` -- "hidden state features from all modalities are
  concatenated and taken as an input" of a GRU (``N d_h -> d_h``); its last
  hidden state is ``h_T``;
* :class:`TransformerFusion` -- "two Transformer encoder layers ... with 4
  heads", 512 wide with a 2048 feed-forward (Table VI's 6,304.78K =
  2 x 3,152,384: the layers only), over the hidden states of all
  modalities and steps ("across modality and time-step") plus a class
  token. Our choices: the ``N T`` tokens in modality-major order with fixed
  sinusoidal positions over that sequence (each modality and step gets its
  own position; no added parameters), pre-LN layers.

Missing modalities (``present`` [B, N] bool): :class:`GRUFusion` zeroes an
absent modality's block of the concatenation, :class:`TransformerFusion`
masks its tokens out of the attention (as the bank zeroes its block).
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmaction.registry import MODELS
from ..common.transformer import TokenTransformer


def _check_inputs(f: torch.Tensor, g: torch.Tensor) -> None:
    if f.dim() != 3 or g.dim() != 2 or f.shape[0] != g.shape[0]:
        raise ValueError(f'takes f [B, T, C] and g [B, C], got '
                         f'{tuple(f.shape)} and {tuple(g.shape)}')


def _append_content(f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """``[f_t || g]`` for every step: [B, T, C_f + C_g]."""
    return torch.cat([f, g[:, None].expand(-1, f.shape[1], -1)], -1)


@MODELS.register_module()
class RecurrentSequenceEncoder(BaseModule):
    """LSTM or GRU in place of the MCU (Table I).

    Args:
        embed_dims (int): Hidden width ``d_h``. Defaults to 512.
        in_channels (int, optional): Width of ``f_t``; ``embed_dims`` if
            None.
        content_channels (int, optional): Width of ``g``; ``embed_dims`` if
            None. Used with ``cross_modal`` only.
        cell (str): ``'lstm'`` or ``'gru'``. Defaults to ``'gru'``.
        cross_modal (bool): Input ``[f_t || g]`` ('+ CM'). Defaults to
            False.
    """

    def __init__(self,
                 embed_dims: int = 512,
                 in_channels: Optional[int] = None,
                 content_channels: Optional[int] = None,
                 cell: str = 'gru',
                 cross_modal: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        cells = dict(lstm=nn.LSTM, gru=nn.GRU)
        if cell not in cells:
            raise ValueError(f"cell must be 'lstm' or 'gru', got {cell!r}")
        self.embed_dims = embed_dims
        self.cross_modal = cross_modal
        width = (in_channels or embed_dims) + (
            (content_channels or embed_dims) if cross_modal else 0)
        self.rnn = cells[cell](width, embed_dims, batch_first=True)

    def forward(self, f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        _check_inputs(f, g)
        x = _append_content(f, g) if self.cross_modal else f
        return self.rnn(x)[0]


@MODELS.register_module()
class TransformerSequenceEncoder(BaseModule):
    """Transformer encoder with a class token in place of the MCU (Table I).

    Args:
        embed_dims (int): ``d_h``. Defaults to 512.
        in_channels, content_channels (int, optional): As
            :class:`RecurrentSequenceEncoder`.
        cross_modal (bool): Encode ``W [f_t || g]`` ('+ CM'). Defaults to
            False.
        num_layers, num_heads: Defaults to 2 and 4 (§IV-C1).
        feedforward_channels (int, optional): ``2 * embed_dims`` if None.
        **kwargs: Other :class:`TokenTransformer` arguments.

    Shapes:
        ``forward(f [B, T, C], g [B, C_g]) -> [B, T + 1, d_h]``: the frame
        outputs, then the class token's.
    """

    def __init__(self,
                 embed_dims: int = 512,
                 in_channels: Optional[int] = None,
                 content_channels: Optional[int] = None,
                 cross_modal: bool = False,
                 num_layers: int = 2,
                 num_heads: int = 4,
                 feedforward_channels: Optional[int] = None,
                 init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(init_cfg=init_cfg)
        self.embed_dims = embed_dims
        self.cross_modal = cross_modal
        width = (in_channels or embed_dims) + (
            (content_channels or embed_dims) if cross_modal else 0)
        self.input_proj = nn.Linear(width, embed_dims) \
            if width != embed_dims else nn.Identity()
        self.transformer = TokenTransformer(
            embed_dims, num_layers=num_layers, num_heads=num_heads,
            feedforward_channels=feedforward_channels or 2 * embed_dims,
            with_cls_token=True, **kwargs)

    def forward(self, f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        _check_inputs(f, g)
        x = _append_content(f, g) if self.cross_modal else f
        out = self.transformer(self.input_proj(x))
        return torch.cat([out[:, 1:], out[:, :1]], 1)


def _check_hidden(hidden: Sequence[torch.Tensor], num: int,
                  dims: int) -> None:
    shapes = {tuple(int(s) for s in h.shape) for h in hidden}  # ints when traced
    if len(hidden) != num or len(shapes) != 1 or hidden[0].dim() != 3 or \
            hidden[0].shape[-1] != dims:
        raise ValueError(f'expected {num} sequences [B, T, {dims}] of one '
                         f'shape, got {sorted(shapes)}')


@MODELS.register_module()
class GRUFusion(BaseModule):
    """GRU over the concatenated hidden states, in place of the bank
    (Table VI).

    Args:
        embed_dims (int): ``d_h``.
        num_modalities (int): ``N``.
    """

    def __init__(self, embed_dims: int, num_modalities: int,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.embed_dims = embed_dims
        self.num_modalities = num_modalities
        self.gru = nn.GRU(num_modalities * embed_dims, embed_dims,
                          batch_first=True)

    def forward(self, hidden: Sequence[torch.Tensor],
                present: Optional[torch.Tensor] = None) -> torch.Tensor:
        hidden = list(hidden)
        _check_hidden(hidden, self.num_modalities, self.embed_dims)
        if present is not None:
            hidden = [h * present[:, i, None, None].to(h)
                      for i, h in enumerate(hidden)]
        return self.gru(torch.cat(hidden, -1))[1][0]


@MODELS.register_module()
class TransformerFusion(BaseModule):
    """Two Transformer encoder layers with a class token over the hidden
    states of all modalities and steps, in place of the bank (Table VI).

    Args:
        embed_dims (int): ``d_h``.
        num_modalities (int): ``N``.
        num_layers, num_heads, feedforward_channels: Defaults to 2, 4 and
            2048 (§IV-D3).
        max_positions (int): Longest ``N T + 1``. Defaults to 256.
        **kwargs: Other :class:`TokenTransformer` arguments.
    """

    def __init__(self,
                 embed_dims: int,
                 num_modalities: int,
                 num_layers: int = 2,
                 num_heads: int = 4,
                 feedforward_channels: int = 2048,
                 max_positions: int = 256,
                 init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(init_cfg=init_cfg)
        self.embed_dims = embed_dims
        self.num_modalities = num_modalities
        self.transformer = TokenTransformer(
            embed_dims, num_layers=num_layers, num_heads=num_heads,
            feedforward_channels=feedforward_channels, with_cls_token=True,
            max_positions=max_positions, **kwargs)

    def num_layer_params(self) -> int:
        """Parameters of the encoder layers: Table VI's count (6,304,768
        for two 512-wide layers with FFN 2048)."""
        return sum(p.numel() for p in self.transformer.encoder.parameters())

    def forward(self, hidden: Sequence[torch.Tensor],
                present: Optional[torch.Tensor] = None) -> torch.Tensor:
        hidden = list(hidden)
        _check_hidden(hidden, self.num_modalities, self.embed_dims)
        tokens = torch.cat(hidden, 1)  # [B, N T, d], modality-major
        mask = None
        if present is not None and not bool(present.all()):
            steps = hidden[0].shape[1]
            mask = (~present.bool()).repeat_interleave(steps, 1).to(
                tokens.device)
        return self.transformer(tokens, key_padding_mask=mask)[:, 0]
