"""Pre-LN transformer token encoder (paper 001, eqs. (2)-(4)).

One module mixes tokens everywhere in this package: the time encoder of the
space-time encoder (§2.1), the transformer fusion unit (§2.3) and, later,
ActionMAE's encoder/decoder (§3).  It is built from
:class:`torch.nn.TransformerEncoderLayer` with ``norm_first=True``, which is
exactly eqs. (3)-(4)::

    Y_l     = MHSA(LN(X_l)) + X_l            (3)
    X_{l+1} = FFN(LN(Y_l)) + Y_l             (4)

with ``FFN = Linear(C, 4C) -> GELU -> Linear(4C, C)``.  Defaults follow the
paper: ``L = 2`` layers, ``C = 512``, 8 heads, FFN width 2048, dropout 0
(Table 3: dropout ``p = 0.1`` costs 0.7 %p).

Resolved ambiguities (each is a constructor switch, paper reading default):

* ``final_norm=False`` -- eq. (4) defines the output ``X_L`` with no LayerNorm
  after the last layer and the classifier reads ``cls_L`` from it directly.
  ViT-style encoders add a final LN; ``final_norm=True`` does that.
* ``pos_embed='sinusoidal'`` -- eq. (2) adds "a fixed absolute embedding" to
  ``[cls, x_1..x_T]``; we use the sin/cos table of Vaswani et al. (2017,
  §3.5), kept as a non-persistent, non-trainable buffer; position 0 belongs
  to the class token.  ``'learnable'`` and ``None`` are also offered.
* ``init_std=0.02`` -- the paper gives no initialisation; linear/attention
  weights and the class token are drawn from a truncated normal (std 0.02,
  as in ViT, which §2.1 follows for the class token), biases are zero.
  ``init_std=None`` keeps PyTorch's default initialisation.
"""
import math
from typing import Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_

from mmaction.registry import MODELS


def sinusoidal_position_embedding(num_positions: int,
                                  embed_dims: int,
                                  temperature: float = 10000.) -> torch.Tensor:
    """Fixed absolute position table of Vaswani et al. (2017), §3.5.

    ``PE[p, 2i] = sin(p / temperature^(2i/C))`` and
    ``PE[p, 2i+1] = cos(p / temperature^(2i/C))``.

    Returns:
        torch.Tensor: ``[num_positions, embed_dims]`` float32 table.
    """
    if embed_dims % 2:
        raise ValueError(f'embed_dims must be even, got {embed_dims}')
    position = torch.arange(num_positions, dtype=torch.float64)[:, None]
    freq = torch.exp(
        torch.arange(0, embed_dims, 2, dtype=torch.float64) *
        (-math.log(temperature) / embed_dims))
    table = torch.zeros(num_positions, embed_dims, dtype=torch.float64)
    table[:, 0::2] = torch.sin(position * freq)
    table[:, 1::2] = torch.cos(position * freq)
    return table.float()


@MODELS.register_module()
class PreNormTransformerEncoder(BaseModule):
    """A stack of ``L`` pre-LN transformer layers, eqs. (3)-(4).

    Args:
        embed_dims (int): Token width ``C``. Defaults to 512.
        num_layers (int): Number of layers ``L``. Defaults to 2.
        num_heads (int): Attention heads. Defaults to 8.
        feedforward_channels (int): FFN hidden width. Defaults to 2048.
        drop_rate (float): Dropout on attention weights, FFN hidden units and
            both residual branches (PyTorch's single ``dropout``). Defaults
            to 0 (Table 3).
        act (str): FFN activation, ``'gelu'`` or ``'relu'``. Defaults to
            ``'gelu'``.
        final_norm (bool): Apply a LayerNorm after the last layer. Defaults
            to False (eq. (4) has none).
        layer_norm_eps (float): LayerNorm epsilon. Defaults to 1e-5.
        init_std (float, optional): Std of the truncated-normal init of the
            weights; None keeps PyTorch's defaults. Defaults to 0.02.
        init_cfg (dict, optional): MMEngine init config; when given it
            replaces the ``init_std`` scheme.

    Shape:
        ``forward(x [N, L, C], key_padding_mask [N, L] bool or None)`` ->
        ``[N, L, C]``; ``True`` in the mask marks a token to ignore.
    """

    def __init__(self,
                 embed_dims: int = 512,
                 num_layers: int = 2,
                 num_heads: int = 8,
                 feedforward_channels: int = 2048,
                 drop_rate: float = 0.,
                 act: str = 'gelu',
                 final_norm: bool = False,
                 layer_norm_eps: float = 1e-5,
                 init_std: Optional[float] = 0.02,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.embed_dims = embed_dims
        self.num_layers = num_layers
        self.init_std = init_std
        self.layers = nn.ModuleList([
            nn.TransformerEncoderLayer(
                d_model=embed_dims,
                nhead=num_heads,
                dim_feedforward=feedforward_channels,
                dropout=drop_rate,
                activation=act,
                layer_norm_eps=layer_norm_eps,
                batch_first=True,
                norm_first=True) for _ in range(num_layers)
        ])
        self.norm = (
            nn.LayerNorm(embed_dims, eps=layer_norm_eps)
            if final_norm else nn.Identity())

    def init_weights(self) -> None:
        """Truncated-normal weights, zero biases, unit LayerNorms."""
        if self.init_cfg is None and self.init_std is not None:
            self._init_layers()
        super().init_weights()

    def _init_layers(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear):
                trunc_normal_(module.weight, std=self.init_std)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.MultiheadAttention):
                trunc_normal_(module.in_proj_weight, std=self.init_std)
                nn.init.zeros_(module.in_proj_bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self,
                x: torch.Tensor,
                key_padding_mask: Optional[torch.Tensor] = None
                ) -> torch.Tensor:
        """Apply eqs. (3)-(4) ``L`` times to ``x`` of shape ``[N, L, C]``."""
        for layer in self.layers:
            x = layer(x, src_key_padding_mask=key_padding_mask)
        return self.norm(x)


@MODELS.register_module()
class TokenTransformer(BaseModule):
    """Class token + position embedding + pre-LN encoder, eqs. (2)-(4).

    ``X_0 = [cls, x_1, ..., x_T] + pos`` (eq. (2)), then
    :class:`PreNormTransformerEncoder`.  Used as the time encoder
    (``with_cls_token=True, pos_embed='sinusoidal'``), as the transformer
    fusion unit of §2.3 (``pos_embed=None``) and as ActionMAE's building
    block.

    Args:
        embed_dims (int): Token width ``C``. Defaults to 512.
        num_layers (int): Layers ``L``. Defaults to 2.
        num_heads (int): Attention heads. Defaults to 8.
        feedforward_channels (int): FFN width. Defaults to 2048.
        drop_rate (float): Dropout inside the layers. Defaults to 0.
        act (str): FFN activation. Defaults to ``'gelu'``.
        with_cls_token (bool): Prepend a learnable class token. Defaults to
            True.
        pos_embed (str, optional): ``'sinusoidal'`` (fixed buffer, eq. (2)),
            ``'learnable'`` or None. Defaults to ``'sinusoidal'``.
        max_positions (int): Length of the position table (class token
            included). Defaults to 256.
        final_norm (bool): LayerNorm after the last layer. Defaults to False.
        layer_norm_eps (float): LayerNorm epsilon. Defaults to 1e-5.
        init_std (float, optional): Truncated-normal std for the class token,
            a learnable position table and the layers. Defaults to 0.02.
        init_cfg (dict, optional): MMEngine init config.

    Shape:
        ``forward(x [N, T, C], key_padding_mask [N, T] or None)`` ->
        ``[N, T + 1, C]`` with the class token at index 0 (``[N, T, C]``
        without it).
    """

    def __init__(self,
                 embed_dims: int = 512,
                 num_layers: int = 2,
                 num_heads: int = 8,
                 feedforward_channels: int = 2048,
                 drop_rate: float = 0.,
                 act: str = 'gelu',
                 with_cls_token: bool = True,
                 pos_embed: Optional[str] = 'sinusoidal',
                 max_positions: int = 256,
                 final_norm: bool = False,
                 layer_norm_eps: float = 1e-5,
                 init_std: Optional[float] = 0.02,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if pos_embed not in ('sinusoidal', 'learnable', None):
            raise ValueError(f'Unknown pos_embed {pos_embed!r}')
        self.embed_dims = embed_dims
        self.with_cls_token = with_cls_token
        self.pos_embed_type = pos_embed
        self.max_positions = max_positions
        self.init_std = init_std

        self.cls_token = (
            nn.Parameter(torch.zeros(1, 1, embed_dims))
            if with_cls_token else None)
        if pos_embed == 'sinusoidal':
            self.register_buffer(
                'pos_embed',
                sinusoidal_position_embedding(max_positions,
                                              embed_dims)[None],
                persistent=False)
        elif pos_embed == 'learnable':
            self.pos_embed = nn.Parameter(
                torch.zeros(1, max_positions, embed_dims))
        else:
            self.pos_embed = None

        self.encoder = PreNormTransformerEncoder(
            embed_dims=embed_dims,
            num_layers=num_layers,
            num_heads=num_heads,
            feedforward_channels=feedforward_channels,
            drop_rate=drop_rate,
            act=act,
            final_norm=final_norm,
            layer_norm_eps=layer_norm_eps,
            init_std=init_std)

    def init_weights(self) -> None:
        """Initialise the class token / learnable positions, then layers."""
        if self.init_cfg is None and self.init_std is not None:
            if self.cls_token is not None:
                trunc_normal_(self.cls_token, std=self.init_std)
            if isinstance(self.pos_embed, nn.Parameter):
                trunc_normal_(self.pos_embed, std=self.init_std)
        super().init_weights()

    def forward(self,
                x: torch.Tensor,
                key_padding_mask: Optional[torch.Tensor] = None
                ) -> torch.Tensor:
        """Prepend ``cls``, add ``pos`` (eq. (2)) and encode (eqs. (3)-(4))."""
        n = x.shape[0]
        if self.cls_token is not None:
            x = torch.cat([self.cls_token.expand(n, -1, -1), x], dim=1)
            if key_padding_mask is not None:
                key_padding_mask = torch.cat([
                    key_padding_mask.new_zeros(n, 1, dtype=torch.bool),
                    key_padding_mask.bool()
                ], dim=1)
        if self.pos_embed is not None:
            length = x.shape[1]
            if length > self.max_positions:
                raise ValueError(
                    f'{length} tokens exceed max_positions='
                    f'{self.max_positions}; raise it in the config')
            x = x + self.pos_embed[:, :length].to(x.dtype)
        return self.encoder(x, key_padding_mask=key_padding_mask)
