"""The levers of notebook 11's ViT: what augmentation, a warm-up + cosine schedule, a convolutional
stem and a smaller patch each do on the offline digits.

Notebook 11 trains one ViT recipe in its quick-mode budget; this script trains the variants it
compares in its "levers" table, one after another, on the same 8,000 training and 2,000 held-out
digits (``course_utils.data.load_mnist()``) and prints one JSON line per variant (test accuracy,
parameters, seconds, and the 1-minute load average, since the course's machines are shared).
The model code is the notebook's (pre-norm blocks, class token, learned position embedding,
width 64, 4 blocks of 4 heads, MLP 128).

Usage (from the course root; 1.5 to 4 minutes per variant of 6 epochs on one shared CPU thread, about
15 minutes for patch2)::

    COURSE_MODE=quick .venv/bin/python benchmarks/vit_levers.py --epochs 6 [plain warmup augment stem patch2 mean cnn]

It is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

VARIANTS = ("plain", "warmup", "augment", "stem", "patch2", "mean", "cnn")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--n-train", type=int, default=8_000)
    args = parser.parse_args()

    import course_utils

    course_utils.setup(seed=0)
    import keras
    from keras import layers, ops

    from course_utils import data

    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    x_train = (x_train[: args.n_train].astype("float32") / 255.0).reshape(-1, 28, 28, 1)
    y_train = y_train[: args.n_train].astype("int64")
    x_test = (x_test.astype("float32") / 255.0).reshape(-1, 28, 28, 1)
    y_test = y_test.astype("int64")
    width, depth, heads, mlp = 64, 4, 4, 128

    class ClassToken(layers.Layer):
        def build(self, input_shape):
            self.token = self.add_weight(shape=(1, 1, input_shape[-1]), initializer="zeros", name="token")

        def call(self, x):
            token = ops.broadcast_to(ops.cast(self.token, x.dtype), (ops.shape(x)[0], 1, x.shape[-1]))
            return ops.concatenate([token, x], axis=1)

    class PositionEmbedding(layers.Layer):
        def build(self, input_shape):
            self.table = self.add_weight(shape=(1, *input_shape[1:]), name="table",
                                         initializer=keras.initializers.RandomNormal(stddev=0.02))

        def call(self, x):
            return x + ops.cast(self.table, x.dtype)

    def augmentation():
        return keras.Sequential([
            layers.RandomRotation(0.03, fill_mode="constant", seed=0),
            layers.RandomTranslation(0.08, 0.08, fill_mode="constant", seed=1),
            layers.RandomZoom(0.1, fill_mode="constant", seed=2)])

    def build_vit(*, augment: bool, patch: int = 4, stem: bool = False, pool: str = "class"):
        inputs = keras.Input((28, 28, 1))
        x = augmentation()(inputs) if augment else inputs
        if stem:  # two 3x3 stride-2 convolutions instead of the 4x4 patch embedding (Xiao et al., 2021)
            x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)
            x = layers.Conv2D(width, 3, strides=2, padding="same")(x)
        else:
            x = layers.Conv2D(width, patch, strides=patch)(x)
        x = layers.Reshape((-1, width))(x)
        if pool == "class":
            x = ClassToken()(x)
        x = PositionEmbedding()(x)
        for _ in range(depth):
            y = layers.LayerNormalization(epsilon=1e-6)(x)
            x = layers.Add()([x, layers.MultiHeadAttention(heads, width // heads)(y, y)])
            y = layers.LayerNormalization(epsilon=1e-6)(x)
            x = layers.Add()([x, layers.Dense(width)(layers.Dense(mlp, activation="gelu")(y))])
        x = layers.LayerNormalization(epsilon=1e-6)(x)
        x = layers.Lambda(lambda t: t[:, 0])(x) if pool == "class" else layers.GlobalAveragePooling1D()(x)
        return keras.Model(inputs, layers.Dense(10, activation="softmax", dtype="float32")(x))

    def build_cnn():  # notebook 02's CNN, without augmentation (notebook 11's recipe)
        inputs = keras.Input((28, 28, 1))
        x = inputs
        for f in (32, 64):
            x = layers.Conv2D(f, 5)(x)
            x = layers.BatchNormalization(momentum=0.9)(x)
            x = layers.MaxPooling2D(2)(layers.Activation("relu")(x))
        x = layers.Dropout(0.3)(layers.Flatten()(x))
        x = layers.Dropout(0.3)(layers.Dense(128, activation="relu", dtype="float32")(x))
        return keras.Model(inputs, layers.Dense(10, activation="softmax", dtype="float32")(x))

    recipes = {  # builder, warm-up + cosine?
        "plain": (lambda: build_vit(augment=False), False),  # constant Adam 1e-3, no augmentation
        "warmup": (lambda: build_vit(augment=False), True),  # notebook 11's recipe
        "augment": (lambda: build_vit(augment=True), True),  # + notebook 02's augmentation
        "stem": (lambda: build_vit(augment=False, stem=True), True),  # a convolutional stem instead of patches
        "patch2": (lambda: build_vit(augment=False, patch=2), True),  # 196 tokens instead of 49
        "mean": (lambda: build_vit(augment=False, pool="mean"), True),  # mean pooling instead of the class token
        "cnn": (build_cnn, True),  # notebook 02's CNN with notebook 11's recipe
    }
    for name in args.variants:
        builder, warm = recipes[name]
        keras.utils.set_random_seed(0)
        model = builder()
        steps = args.epochs * math.ceil(len(x_train) / 64)
        warmup = max(1, steps // 10)
        lr = (keras.optimizers.schedules.CosineDecay(0.0, steps - warmup, warmup_target=1e-3, warmup_steps=warmup)
              if warm else 1e-3)
        model.compile(keras.optimizers.Adam(lr), "sparse_categorical_crossentropy", metrics=["accuracy"])
        start = time.perf_counter()
        model.fit(x_train, y_train, batch_size=64, epochs=args.epochs, verbose=0)
        seconds = time.perf_counter() - start
        accuracy = float(model.evaluate(x_test, y_test, batch_size=500, verbose=0)[1])
        print(json.dumps({"variant": name, "epochs": args.epochs, "n_train": len(x_train),
                          "parameters": model.count_params(), "test_accuracy": round(accuracy, 4),
                          "seconds": round(seconds, 1), "load_1min": round(os.getloadavg()[0], 2),
                          "threads": os.environ.get("TF_NUM_INTRAOP_THREADS", "default")}), flush=True)


if __name__ == "__main__":
    main()
