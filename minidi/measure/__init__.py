"""What minidi measures, exactly where the theory is exact:

    jacobian.py      the input–output Jacobian by backprop, one backward pass per logit
    spectrum.py      its singular values and their statistics (mean JSV), per epoch
    layerspectra.py  the spectra of each layer's local Jacobian D_l W_l and of the partial products
    convspectra.py   a convolution layer's singular values as a linear map, by the 2-D FFT of its kernel
    hessian.py       exact Hessian-vector products by the R-operator
    curvature.py     the loss Hessian's top eigenvalues, trace and density from those products (Lanczos)
    shedding.py      weight shedding: the fraction of weights under a threshold, dead units, BN-dead channels
"""
