# The bed's stand-in for the cinder image's etcd3gw, on cinder's
# PYTHONPATH only. Debian bookworm pairs tooz 3.1.0 (Zed's), whose etcd3gw
# driver passes api_path to etcd3gw.client(), with etcd3gw 2.0.0, whose
# client() lost that argument while its Etcd3Client kept it; every tooz
# coordinator then fails with "client() got an unexpected keyword argument
# 'api_path'". This gives client() the argument back and changes nothing
# else. (Python imports the first sitecustomize on its path; Debian's only
# installs apport's hook, absent here.)
import etcd3gw


def _client(host='localhost', port=2379, ca_cert=None, cert_key=None,
            cert_cert=None, timeout=None, protocol="http",
            api_path='/v3alpha/'):
    return etcd3gw.Etcd3Client(
        host=host, port=port, protocol=protocol, ca_cert=ca_cert,
        cert_key=cert_key, cert_cert=cert_cert, timeout=timeout,
        api_path=api_path)


etcd3gw.client = _client
