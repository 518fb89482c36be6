# TSMF stage 1 on NTU60 cross-view (paper 003, Table 2 row 1: 88.8 % CV).
_base_ = ['./tsmf_ntu60_xsub_teacher.py']
train_dataloader = dict(dataset=dict(split='xview_train'))
val_dataloader = dict(dataset=dict(split='xview_val'))
test_dataloader = val_dataloader
