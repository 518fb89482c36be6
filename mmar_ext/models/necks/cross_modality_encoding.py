"""Complementary Feature Extraction Module (CFEM) of M-Mixer (paper 000,
§III-C, eq. 19-20, Fig. 4; Table V).

Per modality ``j`` an *encoding block* turns the feature maps
``F^j`` [B, d_h, T, h, w] into ``f^j`` [B, h w, d_h]: two Conv3d layers
(kernel 4x1x1, stride 2x1x1, §III-C), average pooling over the remaining
time steps, flattening over space. Per modality ``i`` a *decoding block*
reads the other modalities' tokens with a learnable query ``q^i``::

    c^i = ||_{j != i} f^j                      [B, (N-1) h w, d_h]    (19)
    g^i = LN(MHA(q^i, c^i + pos, c^i) + q^i)   [B, d_h]               (20)

The positional embedding is added to the KEYS only, never to the values.

Missing modalities (``present`` [B, N] bool, False = absent; the neck's
test-time policy): the decoding block of modality ``i`` attends to the
tokens of the PRESENT other modalities only (a key padding mask; the
positional table keeps its blocks, so a present modality's tokens keep
their positions), and ``g^i = 0`` when no other modality is present.

Choices where the paper is silent (each a switch):

* ``kernel_size=(4, 1, 1)``, ``stride=(2, 1, 1)`` (§III-C); Table V's
  caption reads "2x1x1 kernel size" -- ``kernel_size=(2, 1, 1)`` gives that
  reading. ``padding=0`` (not stated): with two unpadded 4x1x1/2 layers the
  clip needs ``T >= 10`` frames (T -> floor((T-4)/2)+1 twice); forward
  raises a ValueError with the minimum otherwise (:attr:`min_frames`).
  The paper samples with temporal stride 8 (§IV-B) and does not state T.
* ReLU between the two convolutions and none after the second
  (``act='relu'``; ``None`` for none); conv biases on; no normalisation.
* ``num_heads=8`` (not stated; 512 and 588 are both divisible by 4, 588
  not by 8 -- pass ``num_heads=4`` for ``d_h = 588``). ``nn.
  MultiheadAttention`` with its in/out projections and biases, no dropout.
* ``pos_embed='learnable'``: one table of ``(N-1) * num_tokens`` positions
  per decoding block (trunc. normal 0.02), ``num_tokens = h*w`` (7x7 = 49
  for a 224 input to ResNet); ``'sinusoidal'`` (fixed, any length) and
  ``None`` are offered. The query ``q^i`` is a trunc. normal (0.02) vector.
* Table V variants: ``conv=False`` drops the two Conv3d (Exp. I-III);
  ``encoder_pool='spatial'`` pools over space instead of time (the tokens
  are then the remaining time steps, Exp. I, II, IV, V);
  ``decoder='pool'`` replaces the attention by the mean of ``c^i`` (our
  reading of the "Avg. pool (T)" decoding block of Exp. I and IV; no LN,
  no query).
"""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_

from mmaction.registry import MODELS
from ..common.transformer import sinusoidal_position_embedding


def _triple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x, x, x)


@MODELS.register_module()
class CrossModalityFeatureEncoding(BaseModule):
    """CFEM (eq. 19-20): cross-modal action contents ``g^1..g^N``.

    Args:
        embed_dims (int): ``d_h``. Defaults to 512.
        num_modalities (int): ``N >= 2``. Defaults to 2.
        num_heads (int): Attention heads. Defaults to 8.
        num_tokens (int): Tokens per modality after the encoding block
            (``h*w``), for the learnable positions. Defaults to 49.
        kernel_size, stride, padding: Of both Conv3d layers. Defaults to
            ``(4, 1, 1)``, ``(2, 1, 1)``, ``0``.
        act (str, optional): ``'relu'``, ``'gelu'`` or None, between the
            two convolutions. Defaults to ``'relu'``.
        conv (bool): Use the Conv3d layers. Defaults to True.
        encoder_pool (str): ``'temporal'`` or ``'spatial'``.
        decoder (str): ``'mha'`` or ``'pool'``.
        pos_embed (str, optional): ``'learnable'``, ``'sinusoidal'`` or None.
        init_std (float): Std of the query and learnable positions.

    Shapes:
        ``forward(feats, present=None)`` with a list (or dict, in its order)
        of ``N`` maps [B, d_h, T, h, w] (``present`` [B, N] bool or None)
        -> list of ``N`` tensors ``g^i`` [B, d_h].
    """

    def __init__(self,
                 embed_dims: int = 512,
                 num_modalities: int = 2,
                 num_heads: int = 8,
                 num_tokens: int = 49,
                 kernel_size=(4, 1, 1),
                 stride=(2, 1, 1),
                 padding=0,
                 act: Optional[str] = 'relu',
                 conv: bool = True,
                 encoder_pool: str = 'temporal',
                 decoder: str = 'mha',
                 pos_embed: Optional[str] = 'learnable',
                 init_std: float = 0.02,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_modalities < 2:
            raise ValueError('CFEM needs at least two modalities')
        if encoder_pool not in ('temporal', 'spatial'):
            raise ValueError(f'bad encoder_pool {encoder_pool!r}')
        if decoder not in ('mha', 'pool'):
            raise ValueError(f'bad decoder {decoder!r}')
        if pos_embed not in ('learnable', 'sinusoidal', None):
            raise ValueError(f'bad pos_embed {pos_embed!r}')
        acts = dict(relu=nn.ReLU, gelu=nn.GELU)
        if act is not None and act not in acts:
            raise ValueError(f'bad act {act!r}')
        self.embed_dims = embed_dims
        self.num_modalities = num_modalities
        self.num_tokens = num_tokens
        self.kernel_size = _triple(kernel_size)
        self.stride = _triple(stride)
        self.padding = _triple(padding)
        self.conv = conv
        self.encoder_pool = encoder_pool
        self.decoder = decoder
        self.pos_embed_type = pos_embed
        self.init_std = init_std

        def encoder():
            if not conv:
                return nn.Identity()
            layers = [
                nn.Conv3d(embed_dims, embed_dims, self.kernel_size,
                          self.stride, self.padding)
            ]
            if act is not None:
                layers.append(acts[act]())
            layers.append(
                nn.Conv3d(embed_dims, embed_dims, self.kernel_size,
                          self.stride, self.padding))
            return nn.Sequential(*layers)

        self.encoders = nn.ModuleList(
            encoder() for _ in range(num_modalities))
        if decoder == 'mha':
            self.queries = nn.Parameter(
                torch.zeros(num_modalities, embed_dims))
            self.attns = nn.ModuleList(
                nn.MultiheadAttention(embed_dims, num_heads, batch_first=True)
                for _ in range(num_modalities))
            self.norms = nn.ModuleList(
                nn.LayerNorm(embed_dims) for _ in range(num_modalities))
            num_pos = (num_modalities - 1) * num_tokens
            if pos_embed == 'learnable':
                self.pos_embed = nn.Parameter(
                    torch.zeros(num_modalities, num_pos, embed_dims))
            else:
                self.pos_embed = None
            self._init_tokens()

    def _init_tokens(self) -> None:
        if self.decoder != 'mha':
            return
        trunc_normal_(self.queries, std=self.init_std)
        if self.pos_embed is not None:
            trunc_normal_(self.pos_embed, std=self.init_std)

    def init_weights(self) -> None:
        super().init_weights()
        if not (isinstance(self.init_cfg, dict)
                and self.init_cfg.get('type') == 'Pretrained'):
            self._init_tokens()

    @property
    def min_frames(self) -> int:
        """Smallest ``T`` the two convolutions accept (10 for 4x1x1/2)."""
        if not self.conv:
            return 1
        k, s, p = self.kernel_size[0], self.stride[0], self.padding[0]
        t = 1  # output length of the 2nd conv; invert out = (T+2p-k)//s+1
        for _ in range(2):
            t = max((t - 1) * s + k - 2 * p, 1)
        return t

    def encode(self, index: int, x: torch.Tensor) -> torch.Tensor:
        """Encoding block: [B, d, T, h, w] -> tokens [B, L, d] (``f^j``)."""
        if x.dim() != 5 or x.shape[1] != self.embed_dims:
            raise ValueError(f'CFEM takes [B, {self.embed_dims}, T, h, w] '
                             f'maps, got {tuple(x.shape)}')
        if x.shape[2] < self.min_frames:
            raise ValueError(
                f'CFEM with two Conv3d (kernel {self.kernel_size}, stride '
                f'{self.stride}, padding {self.padding}) needs at least '
                f'{self.min_frames} frames, got T={x.shape[2]}')
        x = self.encoders[index](x)
        if self.encoder_pool == 'temporal':
            return x.mean(2).flatten(2).transpose(1, 2)  # [B, h w, d]
        return x.mean((3, 4)).transpose(1, 2)  # [B, T', d]

    def position(self, index: int, num: int,
                 ref: torch.Tensor) -> Optional[torch.Tensor]:
        """``pos`` [num, d] of decoding block ``index`` (or None)."""
        if self.pos_embed_type is None:
            return None
        if self.pos_embed_type == 'sinusoidal':
            return sinusoidal_position_embedding(num, self.embed_dims).to(ref)
        if num != self.pos_embed.shape[1]:
            raise ValueError(
                f'learnable positions cover {self.pos_embed.shape[1]} tokens '
                f'((N-1) * num_tokens), got {num}: set num_tokens to the '
                f'tokens per modality (h*w, or T\' with spatial pooling)')
        return self.pos_embed[index]

    def decode(self, index: int, content: torch.Tensor,
               ignore: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Decoding block (20): ``c^i`` [B, L, d] -> ``g^i`` [B, d].

        ``ignore`` [B, L] bool marks tokens to leave out (each row must keep
        one)."""
        if self.decoder == 'pool':
            if ignore is None:
                return content.mean(1)
            keep = (~ignore).to(content)[..., None]
            return (content * keep).sum(1) / keep.sum(1)
        q = self.queries[index].expand(content.shape[0], 1, -1)
        pos = self.position(index, content.shape[1], content)
        key = content if pos is None else content + pos
        out, _ = self.attns[index](q, key, content, key_padding_mask=ignore,
                                   need_weights=False)
        return self.norms[index](out + q)[:, 0]

    def forward(self, feats: Union[Dict[str, torch.Tensor],
                                   Sequence[torch.Tensor]],
                present: Optional[torch.Tensor] = None
                ) -> List[torch.Tensor]:
        feats = list(feats.values()) if isinstance(feats, dict) \
            else list(feats)
        if len(feats) != self.num_modalities:
            raise ValueError(f'expected {self.num_modalities} modalities, '
                             f'got {len(feats)}')
        tokens = [self.encode(j, x) for j, x in enumerate(feats)]
        contents = []
        for i in range(self.num_modalities):
            others = [j for j in range(self.num_modalities) if j != i]
            content = torch.cat([tokens[j] for j in others], 1)
            if present is None or bool(present[:, others].all()):
                contents.append(self.decode(i, content))
                continue
            absent = ~present[:, others].bool().to(content.device)
            alone = absent.all(1)  # no other modality: zero content
            ignore = (absent & ~alone[:, None]).repeat_interleave(
                tokens[0].shape[1], 1)
            g = self.decode(i, content, ignore if bool(ignore.any()) else None)
            contents.append(torch.where(alone[:, None], 0., g))
        return contents
