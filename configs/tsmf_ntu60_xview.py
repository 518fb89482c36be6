# TSMF stage 2 on ntu60_xview (paper 003, Table 2 rows 4 / 7: 86.2 / 95.4 %
# CV): the ResNet18 student on the weighted ROI mosaics with the fixed teacher
# of configs/tsmf_ntu60_xview_teacher.py.
_base_ = ['./_base_/tsmf_ntu60_xview.py']
