# TSMF stage 2 on pku_mmd_xview (paper 003, Table 2 rows 4 / 7: 82.2 / 95.7 %
# CV): the ResNet18 student on the weighted ROI mosaics with the fixed teacher
# of configs/tsmf_pku_mmd_xview_teacher.py.
_base_ = ['./_base_/tsmf_pku_mmd_xview.py']
