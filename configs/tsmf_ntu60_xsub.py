# TSMF stage 2 on ntu60_xsub (paper 003, Table 2 rows 4 / 7, student /
# ensemble: 76.8 / 89.7 % CS): the ResNet18 student on the weighted ROI mosaics
# with the fixed teacher of configs/tsmf_ntu60_xsub_teacher.py.
_base_ = ['./_base_/tsmf_ntu60_xsub.py']
