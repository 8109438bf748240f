"""The options of `captionacc train-extents` (kept free of torch, so the CLI starts fast)."""


def add_train_arguments(parser) -> None:
    parser.add_argument("--out", default="extents-model", help="folder for the weights and the training report")
    parser.add_argument("--cache", default="extents-model/cache", help="rendered training crops (reused)")
    parser.add_argument("--train-videos", type=int, default=48)
    parser.add_argument("--val-videos", type=int, default=12)
    parser.add_argument("--libass-train-videos", type=int, default=16, help="libass eval-set videos, encoded")
    parser.add_argument("--libass-val-videos", type=int, default=6)
    parser.add_argument(
        "--one-char-train-videos", type=int, default=8, help="one-character-set videos per renderer, encoded"
    )
    parser.add_argument("--one-char-val-videos", type=int, default=4)
    parser.add_argument(
        "--hold-out-background",
        choices=("moving", "cuts", "textured", "flat", "footage"),
        help="train on no video with this background; report the validation videos with it on their own",
    )
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (1 is fastest on a busy 2-core machine; 0: all cores)"
    )
    parser.add_argument(
        "--install",
        action="store_true",
        help="replace the shipped weights in captionacc_assets/models with the new ones",
    )
