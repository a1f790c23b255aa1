# The sweep behind the shipped star model (models/EVAL.md section 1, call 2), run on the GPU
# machine from the repository root with the bundle carried: `bash models/gpu_sweep.sh`; $OUT is
# where the device tool collects the shards and the report.
export PYTHONUNBUFFERED=1
R=/tmp/runs; mkdir -p $R
T="timeout 370 python3 models/finetune_full.py train --out $R --epochs 3"
$T --name lr5e5 --lr 5e-5 > /tmp/a.log 2>&1 &
$T --name lr15e5 --lr 1.5e-4 --seed 21 > /tmp/b.log 2>&1 &
$T --name lr2e4d8 --lr 2e-4 --decay 0.8 --seed 22 > /tmp/c.log 2>&1 &
$T --name nodecay --lr 1e-4 --decay 1.0 --seed 23 > /tmp/d.log 2>&1 &
$T --name msels0 --lr 1e-4 --label-smoothing 0 --mse 0.2 --seed 24 > /tmp/e.log 2>&1 &
$T --name ord5mse --loss ordinal --sigma 0.5 --mse 0.2 --lr 1.5e-4 --seed 25 > /tmp/f.log 2>&1 &
wait
tail -n 4 /tmp/*.log | tee $OUT/train.log
timeout 150 python3 models/finetune_full.py select --runs $R --out $OUT 2>&1 | tail -n 20 | tee $OUT/select.log
timeout 60 python3 benchmarks/tokenizer_bench.py 12 2>&1 | tail -n 3 | tee $OUT/tokbench.json
