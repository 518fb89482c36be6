# TSMF stage 2 on pku_mmd_xsub (paper 003, Table 2 rows 4 / 7: 82.8 / 94.3 %
# CS): the ResNet18 student on the weighted ROI mosaics with the fixed teacher
# of configs/tsmf_pku_mmd_xsub_teacher.py.
_base_ = ['./_base_/tsmf_pku_mmd_xsub.py']
