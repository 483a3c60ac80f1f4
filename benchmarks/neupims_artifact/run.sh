#!/bin/bash
# run.sh <branch> <name> <mem_config> <sys_config> <trace> [model_config]
# runs the artifact's Simulator from the branch's root, as brun.sh does; logs to runs/<name>
b=$1; name=$2; mem=$3; sys=$4; trace=$5; model=${6:-./configs/model_configs/gpt3-7B.json}
out=/tmp/neupims_art/runs/$name; mkdir -p $out
cd /tmp/neupims_art/$b
start=$(date +%s.%N)
./build/bin/Simulator --config ./configs/systolic_ws_128x128_dev.json --mem_config $mem \
  --cli_config $trace --model_config $model --sys_config $sys --log_dir $out > $out/stdout.log 2>&1
rc=$?
end=$(date +%s.%N)
echo "{\"rc\": $rc, \"wall_s\": $(echo "$end - $start" | bc)}" > $out/wall.json
