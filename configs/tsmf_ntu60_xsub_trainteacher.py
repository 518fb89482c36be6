# TSMF Table 2 row 3 "✓" (paper 003, NTU60 CS: 73.8 %; ensemble row 6: 89.4 %):
# the teacher is tuned together with the student (train mode, loss L_P + lambda
# L_X, eq. 7); the joint weights are detached (eq. 10-11 are independent
# objectives).
_base_ = ['./tsmf_ntu60_xsub.py']
model = dict(teacher_mode='train')
