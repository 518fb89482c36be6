# Paper 001 §2 on the embedded synthetic dataset: rgb-depth sum fusion whose
# encoders start from the uni-modal synthetic models, then a short joint
# fine-tune.
#
# This is the synthetic counterpart of the paper's ImageNet initialisation
# (§4.1): trained jointly from scratch, the fused model is dominated by the
# modality that is fastest to fit (depth here; the modality bias of §1), and
# its RGB encoder stays close to chance -- ``stfusion_synth_rgb-depth_sum.py``
# shows it.  Starting each encoder from its uni-modal model avoids that.
#
# ``tools/run_synthetic.sh`` trains the uni-modal models first and passes
# their checkpoints; by hand:
#   --cfg-options model.backbone.rgb.init_cfg.checkpoint=RGB.pth \
#                 model.backbone.depth.init_cfg.checkpoint=DEPTH.pth
_base_ = ['./stfusion_synth_rgb-depth_sum.py']

unimodal_checkpoints = dict(
    rgb='work_dirs/synthetic/rgb/epoch_15.pth',
    depth='work_dirs/synthetic/depth/epoch_15.pth')
model = dict(
    backbone=dict(
        rgb=dict(
            init_cfg=dict(
                type='Pretrained',
                checkpoint=unimodal_checkpoints['rgb'],
                prefix='backbone.rgb.')),
        depth=dict(
            init_cfg=dict(
                type='Pretrained',
                checkpoint=unimodal_checkpoints['depth'],
                prefix='backbone.depth.'))))

# Fine-tune: 5 epochs, one of linear warm-up, at a third of the from-scratch
# learning rate.
max_epochs = 5
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, eta_min=1e-6,
         by_epoch=True, begin=1, end=max_epochs)
]
default_hooks = dict(checkpoint=dict(interval=max_epochs))
