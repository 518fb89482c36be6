# TSMF stage 2 on ntu120_xset (paper 003, not in the paper): the ResNet18
# student on the weighted ROI mosaics with the fixed teacher of
# configs/tsmf_ntu120_xset_teacher.py.
_base_ = ['./_base_/tsmf_ntu120_xset.py']
