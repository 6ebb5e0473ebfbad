/** `cdk8s synth` entry point (see cdk8s.yaml): writes the charts of the config in FERRY_CONFIG or ./config. */
import { loadConfig } from '../lib/config/load';
import { createK8sApp } from '../lib/k8s/app';

createK8sApp(loadConfig()).synth();
