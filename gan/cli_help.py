"""Help texts of `python -m gan`'s flags, one table per command (the flags themselves come from
each command's config dataclass)."""

from .data import EXPRESSIONS

HELP_OVERRIDES = {
    "data": "FER2013 csv/csv.gz or image folder, CelebA zip/folder, or any folder of images",
    "model": "seed: one DCGAN per expression (the seed's recipe); conditional: one class-conditional DCGAN "
             "for all seven expressions with a shared latent space",
    "lr_d": "discriminator learning rate (default: --lr)",
    "lambda_ac": "conditional: weight of the auxiliary expression-classifier loss",
    "lambda_same": "conditional: weight of the same-face loss (G(z, a) vs G(z, b) outside eyes/brows/mouth)",
    "class_balance": "conditional: 0 draws classes as in the data, 1 all equally often",
    "d_norm": "conditional: batch (the seed's D and BCE loss) or spectral (spectral norm and hinge loss)",
    "expression": f"seed: one of {', '.join(EXPRESSIONS)}, or 'all' for one model each (default: one model of "
                  "every face, whatever its expression); --model conditional takes none",
    "dataset": "data layout: auto, fer2013, celeba or folder",
    "out": "folder for run folders (one per expression)",
    "ferplus": "FER+ fer2013new.csv: relabel FER2013 by majority vote",
    "split": "FER2013 split: Training, PublicTest or PrivateTest",
    "image_size": "48 or 64 (default: 48 for FER2013, else 64)",
    "channels": "1 or 3 (default: 1 for FER2013, else 3)",
    "limit": "use only the first N images (smoke tests)",
    "epochs": "epochs to train to (a finished run continues when raised)",
    "batch_size": "images per step", "lr": "Adam learning rate", "beta1": "Adam beta1", "beta2": "Adam beta2",
    "nz": "latent size", "ngf": "generator width", "ndf": "discriminator width",
    "seed": "seed for init, data order and noise",
    "device": "auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N, mps",
    "amp": "bf16 autocast where the hardware has native bf16",
    "channels_last": "channels_last memory format on CUDA",
    "sample_count": "images in the per-epoch fixed-noise grid",
    "checkpoint_minutes": "also save the training state this often mid-epoch (0: only at epoch ends)",
    "max_steps": "stop after this many steps in total (smoke tests)",
}

CLASSIFIER_HELP = {
    "data": "FER2013 csv/csv.gz (Training trains, PublicTest selects, PrivateTest reports), or an image folder "
            "DIR/train/<expression>/ with DIR/test/<expression>/ (selects and reports)",
    "out": "run folder (state, metrics.jsonl, classifier.safetensors)",
    "epochs": "epochs to train", "batch_size": "images per step", "lr": "SGD peak learning rate",
    "warmup_epochs": "epochs of linear learning-rate warm-up before the cosine decay",
    "momentum": "SGD (Nesterov) momentum", "weight_decay": "L2 on conv and linear weights",
    "label_smoothing": "cross-entropy label smoothing",
    "rotate_degrees": "augmentation: random rotation (+- degrees)", "scale": "augmentation: random zoom (1 +- scale)",
    "shift": "augmentation: random shift (fraction of the side)",
    "noise": "augmentation: Gaussian pixel noise up to this std in grey levels, on half the images",
    "blur": "augmentation: share of images shrunk 1.5-3x and enlarged again",
    "contrast": "augmentation: contrast scaled by 1 +- this, on half the images", "seed": "seed for init, data order and augmentation",
    "device": HELP_OVERRIDES["device"], "amp": HELP_OVERRIDES["amp"],
    # Only Training is cut: --limit 256 still measured 7,178 test faces, 2 of a smoke test's 2.5 minutes.
    "limit": "use only the first N Training images (smoke tests); PublicTest is still measured in full after "
             "every epoch and PrivateTest at the end (unless --test-limit)",
    "test_limit": "measure only the first N faces of PublicTest and of PrivateTest (smoke tests: the accuracies "
                  "then only show that the run works, they are not the classifier's; default: all of them)",
    "ferplus": "FER+ fer2013new.csv: train and select on its majority-vote labels (rows without one are dropped)",
    "class_balance": "draw class c in proportion to count_c ** (1 - this): 0 plain shuffling, 1 equal shares",
}

LANDMARK_HELP = {
    "data": "FER2013 csv/csv.gz (Training trains, PublicTest measures), or an image folder "
            "DIR/train/<expression>/ with DIR/test/<expression>/ (measures)",
    "out": "run folder (teacher labels, state, metrics.jsonl, landmarks.safetensors)",
    "teacher": "labels file (teacher.safetensors layout); default: run dlib (pip install '.[bench]') and cache them",
    "epochs": "passes over the Training faces", "batch_size": "faces per step", "lr": "AdamW peak learning rate",
    "weight_decay": "AdamW weight decay", "rotate_degrees": "augmentation: random rotation (+- degrees)",
    "scale": "augmentation: random zoom (1 +- scale)", "shift": "augmentation: random shift (fraction of the side)",
    "seed": "seed for init, data order and augmentation", "device": HELP_OVERRIDES["device"],
    "limit": "use only the first N Training faces (smoke tests); PublicTest is still measured in full after "
             "every epoch (see --test-limit)",
    "test_limit": "measure (and label with dlib) only the first N PublicTest faces (smoke tests: not an accuracy)",
}

ENCODER_HELP = {
    "data": "FER2013 csv/csv.gz (the Training split's real faces), or an image folder DIR/train/<expression>/",
    "generator": "the conditional generator to invert (generator.safetensors of a run, or the shipped one)",
    "discriminator": "its discriminator, for the feature loss (default: discriminator.safetensors beside it)",
    "classifier": "expression classifier that reads each real face's p",
    "out": "run folder (state, metrics.jsonl, encoder.safetensors)",
    "epochs": "passes over the real Training faces", "batch_size": "real faces per step (plus as many samples)",
    "lr": "Adam learning rate", "lambda_latent": "weight of the latent loss on G's samples",
    "lambda_class": "weight of the expression head's loss", "lambda_pixel": "weight of the pixel loss on real faces",
    "lambda_feature": "weight of the discriminator-feature loss on real faces",
    "lambda_prior": "weight of the pull of ||z|| towards sqrt(nz)", "seed": "seed for init, data order and noise",
    "limit": HELP_OVERRIDES["limit"], "device": HELP_OVERRIDES["device"], "amp": HELP_OVERRIDES["amp"],
    "max_steps": HELP_OVERRIDES["max_steps"],
}

CHANGE_HELP = {
    "data": "FER2013 csv/csv.gz (the Training split's real faces), or an image folder DIR/train/<expression>/",
    "teacher": "a classifier that reads the edited faces in the change loss; not the benchmarks' classifier "
               "(train one with: python -m gan train-classifier --ferplus ...)",
    "generator": "the conditional generator to fine-tune", "encoder": "its encoder (frozen: gives each face's z)",
    "classifier": "expression classifier that reads each real face's own expression p",
    "out": "run folder (state, metrics.jsonl, generator.safetensors, discriminator.safetensors)",
    "epochs": "passes over the real Training faces", "batch_size": "images per step", "lr": "Adam learning rate",
    "lambda_change": "weight of the teacher's loss on face + blurred change",
    "lambda_fit": "weight of the pixel loss keeping G(E(x), p) close to x",
    "lambda_critic": "weight of the edit critic's loss: edited faces must pass as real faces of the target "
                     "(0: no critic)",
    "lambda_ac": HELP_OVERRIDES["lambda_ac"], "lambda_same": HELP_OVERRIDES["lambda_same"],
    "strength_min": "lowest edit strength drawn", "strength_max": "highest edit strength drawn",
    "blur": "Gaussian sigma (48x48 pixels) of the low-pass applied to the change, as the editor does",
    "warmup_steps": "steps in which only the fresh discriminator trains",
    "class_balance": HELP_OVERRIDES["class_balance"], "seed": "seed for init, data order and noise",
    "limit": HELP_OVERRIDES["limit"], "device": HELP_OVERRIDES["device"], "amp": HELP_OVERRIDES["amp"],
    "max_steps": HELP_OVERRIDES["max_steps"],
}

