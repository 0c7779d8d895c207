"""course_lib — the algorithms of *Mathematics of AI*, written from scratch.

Topic modules compute with NumPy / PyTorch, one idea per module; ``plotting`` and ``widgets``
draw; ``checks`` gives feedback on exercise sheets; ``sheets`` generates them.  Where everything
lives, chapter by chapter:

==  =====================================  ==============================================================
01  Smooth optimization                    ``optim`` (gradient descent, momentum, SGD, Adam),
                                           ``derivatives`` (finite differences, test problems)
02  From smooth to non-smooth optimization ``linear_models`` (ridge, lasso path, interior point),
                                           ``lasso`` (objective, duality gap, ISTA, FISTA, fast solver),
                                           ``prox`` (``soft_threshold``, the prox gallery)
03  Proximal methods, compressed sensing   ``prox`` (proxes and projections), ``lasso``,
                                           ``splitting`` (forward-backward, Douglas-Rachford, ADMM,
                                           Chambolle-Pock, basis pursuit), ``sparsity`` (coherence,
                                           RIP, phase transition), ``images`` (gradient, divergence,
                                           total variation, TV denoising and inpainting)
04  From kernels to transformers           ``kernels`` (kernels, kernel ridge, random features),
                                           ``nets`` (MLP, CNN, ResNet, attention, transformer,
                                           training loop; also used in chapter 5)
05  Deep learning: theory and numerics     ``approximation`` (ridge functions, random features,
                                           Barron's rate), ``backprop`` (an MLP's backward pass by
                                           hand), ``scalings`` (lazy vs mean-field training),
                                           ``resnets`` (ResNets as Euler schemes of ODEs)
06  Differentiable programming             ``autodiff`` (a package: ``Dual``, ``Var``, ``Tensor``,
                                           ``grad``, ``jacobian``, ...), ``ode`` (Runge-Kutta,
                                           backpropagation through the solver, adjoint method),
                                           ``timing`` (fair CPU timings, the cheap-gradient ratio)
==  =====================================  ==============================================================

Shared by every chapter: ``data`` (every dataset, offline), ``device`` (seed, CPU / GPU),
``utils`` (input validation, fitted rates), ``plotting``, ``widgets``, ``notebook`` (``glue``),
``checks`` and ``sheets``; ``timing`` is also used by ``benchmarks/``.

Names kept stable for other chapters and older notebooks: ``prox.lasso`` is ``lasso.lasso``, and
the names that ``prox``, ``approximation`` and ``autodiff`` held before they were split are still
found there (``prox.fista``, ``approximation.mlp_forward``, ``autodiff.median_times``, ...).
"""
__version__ = "0.1.0"
