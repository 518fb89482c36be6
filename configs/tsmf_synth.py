# TSMF stage 2 on the synthetic dataset (Table 2 rows 4 and 7 in miniature):
# the student with the fixed teacher of configs/tsmf_synth_teacher.py;
# model.use_weights=False gives row 2, model.teacher_mode=train row 3.
_base_ = ['./_base_/tsmf_synth.py']
