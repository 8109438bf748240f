"""The options of `captionacc train-extents` (kept free of torch, so the CLI starts fast)."""


def add_train_arguments(parser) -> None:
    parser.add_argument("--out", default="extents-model", help="folder for the weights and the training report")
    parser.add_argument("--cache", default="extents-model/cache", help="rendered training crops (reused)")
    parser.add_argument("--train-videos", type=int, default=48)
    parser.add_argument("--val-videos", type=int, default=12)
    parser.add_argument("--steps", type=int, default=2500)
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
