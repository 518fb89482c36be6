# TSMF Table 2 row 2 (paper 003, NTU60 CS: 72.7 %; ensemble row 5: 88.9 %): the
# ResNet18 student on the plain ROI mosaic (no joint weights); the fixed
# teacher only joins the ensemble at test time.
_base_ = ['./tsmf_ntu60_xsub.py']
model = dict(use_weights=False)
